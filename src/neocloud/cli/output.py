"""How every command prints: a Rich table for people, exactly one JSON document with --json."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """One JSON document on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, caption: str | None = None
) -> None:
    table = Table(title=title, caption=caption, header_style="bold cyan")
    cells = [[str(c) for c in row] for row in rows]
    for i, col in enumerate(columns):
        # an id is copied into the next command: never cut or wrapped, however narrow the terminal
        whole = i == 0 or col in ID_COLUMNS or col.endswith(" id")
        width = max((len(r[i]) for r in cells if i < len(r)), default=0) if whole else None
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=whole, min_width=width or None)
    for row in cells:
        table.add_row(*row)
    console.print(table)


ID_COLUMNS = frozenset({"id", "allocation", "reservation", "instance", "invoice", "node", "token"})


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error in red on stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def progress(enabled: bool = True) -> Iterator[Progress]:
    """A progress bar on stderr (silent under --json, so stdout stays one document)."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not enabled,
        transient=True,
    ) as bar:
        yield bar

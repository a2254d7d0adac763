"""`neocloud bench …`: the benchmarks. Each prints a table, or one JSON object with --json."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks: openb (vs the published FGD results), scale, api, billing.", no_args_is_help=True)

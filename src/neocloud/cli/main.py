"""The `neocloud` command. Sub-command groups live in their own modules and are registered here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="neocloud",
    help="neocloud: run a GPU cloud — fleet, placement, capacity products, billing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from neocloud.cli import bench, fleet

    app.add_typer(fleet.app, name="fleet")
    app.add_typer(bench.app, name="bench")


def main() -> None:
    _register()
    app()

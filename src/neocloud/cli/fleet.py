"""`neocloud fleet …`: describe fleets (presets and files)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Fleet descriptions: presets and files.", no_args_is_help=True)

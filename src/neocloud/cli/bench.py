"""`neocloud bench …`: the benchmarks. Each prints a table, or one JSON object with --json."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks: openb (vs the published FGD results), scale, api, billing.", no_args_is_help=True)


@app.command("billing")
def billing(
    allocations: int = typer.Option(10_000, "--allocations", min=1, help="Synthetic allocations in the month."),
    nodes: int = typer.Option(100_000, "--nodes", min=1, help="Nodes in the synthetic fleet."),
    seed: int = typer.Option(1, "--seed", help="Seed of the generator's random streams."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Meter and rate one month of synthetic allocations in memory (daily metering, finalize, reconcile)."""
    from neocloud.bench.billing import run
    from neocloud.cli.output import print_json, print_table

    figures = run(allocations=allocations, nodes=nodes, seed=seed)
    if json_output:
        print_json(figures)
        return
    print_table("bench billing (in memory)", ("figure", "value"), [(k, v) for k, v in figures.items()])

"""`neocloud bench …`: the benchmarks. Each prints a table, or one JSON object with --json."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks: openb (vs the published FGD results), scale, api, billing.", no_args_is_help=True)


@app.command("billing")
def billing(
    allocations: int = typer.Option(10_000, "--allocations", min=1, help="Synthetic allocations in the month."),
    nodes: int = typer.Option(100_000, "--nodes", min=1, help="Nodes in the synthetic fleet."),
    seed: int = typer.Option(1, "--seed", help="Seed of the generator's random streams."),
    store: str = typer.Option("memory", "--store", help="memory, sqlite (a temporary file) or postgres"),
    database_url: str | None = typer.Option(None, "--database-url", help="PostgreSQL URL for --store postgres (a temporary schema is used)"),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Meter and rate one month of synthetic allocations (daily metering, finalize, reconcile)."""
    from neocloud.bench.billing import run
    from neocloud.cli.output import fail, print_json, print_table

    if store not in ("memory", "sqlite", "postgres") or (store == "postgres" and not database_url):
        raise fail("--store is memory, sqlite, or postgres with --database-url")
    figures = run(allocations=allocations, nodes=nodes, seed=seed, store=store, database_url=database_url)
    if json_output:
        print_json(figures)
        return
    print_table(f"bench billing ({store})", ("figure", "value"), [(k, v) for k, v in figures.items()])

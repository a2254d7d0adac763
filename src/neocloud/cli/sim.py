"""`neocloud sim run SCENARIO`: simulate a fleet with neocloud's own control plane on virtual time."""

from __future__ import annotations

from pathlib import Path

import typer

from neocloud.cli.output import fail, print_json, print_table, progress
from neocloud.kernel.errors import DomainError

app = typer.Typer(help="The fleet simulator: run scenarios (presets or YAML files).", no_args_is_help=True)


@app.command("run")
def run(
    scenario: str = typer.Argument(
        ..., help="a preset (tiny, gb200-superpod, campus-1gw) or a scenario file"
    ),
    days: float | None = typer.Option(
        None, "--days", min=0.001, help="simulated days (default: the scenario's)"
    ),
    seed: int = typer.Option(0, "--seed", help="seed of every random source"),
    engine: str | None = typer.Option(None, "--engine", help="exact or pooled (default: the scenario's)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
    plot: Path | None = typer.Option(
        None, "--plot", help="write PNG plots and report.html to this directory"
    ),
) -> None:
    """Run SCENARIO and print its totals: utilisation by product, revenue, SLA credits, energy, events."""
    from neocloud.sim.run import run_scenario

    try:
        with progress(not as_json) as bar:
            task = bar.add_task("simulating", total=1000)
            result = run_scenario(
                scenario,
                days=days,
                seed=seed,
                engine=engine,
                progress=lambda done: bar.update(task, completed=int(done * 1000)),
            )
    except DomainError as err:
        raise fail(err.message) from None
    files: list[str] = []
    if plot is not None:
        from neocloud.sim.report import write_html, write_plots

        pngs = write_plots(result, plot)
        files = [str(p) for p in [*pngs, write_html(result, plot, pngs)]]
    if as_json:
        print_json({**result.to_json(), **({"files": files} if files else {})})
        return
    rows = [
        ("GPUs", f"{result.gpus:,}"),
        ("utilisation", f"{result.utilisation:.2%}"),
        *((f"  {k}", f"{v:.2%}") for k, v in result.utilisation_by_product.items()),
        ("healthy", f"{result.healthy_fraction:.3%}"),
        *((f"revenue {k}", f"{v:,} {result.currency}") for k, v in result.revenue_by_product.items()),
        ("SLA credits", f"{result.sla_credits:,} {result.currency}"),
        ("energy", f"{result.energy_mwh:,.1f} MWh ({result.mean_power_mw:,.2f} MW mean)"),
        (
            "on-demand refused / queued",
            f"{result.extra['on-demand_refused']:.0f} / {result.extra['on-demand_queued']:.0f}",
        ),
        ("spot preempted", f"{result.extra['spot_preempted']:.0f}"),
        ("failures / repairs", f"{result.extra['failures']:.0f} / {result.extra['repairs']:.0f}"),
        ("events", f"{result.events:,} in {result.wall_seconds:.2f} s ({result.events_per_second:,.0f}/s)"),
    ]
    print_table(f"{result.scenario}: {result.simulated_days:g} days, seed {result.seed}", ("", "value"), rows)
    for f in files:
        typer.echo(f"wrote {f}")

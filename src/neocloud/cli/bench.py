"""`neocloud bench …`: the benchmarks. Each prints a table, or one JSON object with --json."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from neocloud.cli.output import fail, print_json, print_table, progress
from neocloud.domain.errors import DomainError

app = typer.Typer(
    help="Benchmarks: openb (vs the published FGD results), scale, api, billing.", no_args_is_help=True
)


@app.command("openb")
def openb_command(
    pods: Path = typer.Option(
        None, "--pods", help="openb pod list (default: ../shared/data/openb/openb_pod_list_default.csv)"
    ),
    nodes: Path = typer.Option(None, "--nodes", help="openb GPU node list (default: the one beside --pods)"),
    policy: str = typer.Option("all", "--policy", help="policy name(s), comma-separated, or 'all'"),
    seeds: str = typer.Option("42-51", "--seeds", help="seeds: a range 42-51 or a list 42,43"),
    plot: Path = typer.Option(None, "--plot", help="write the allocation curves to this PNG"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of a table"),
) -> None:
    """Run the openb protocol (FGD artifact, ATC'23) and compare with the published figures."""
    from neocloud.bench import openb

    try:
        names = openb.parse_policies(policy)
        seed_list = openb.parse_seeds(seeds)
        started = time.monotonic()
        total = len(names) * len(seed_list)
        with progress(enabled=not as_json) as bar:
            task = bar.add_task("openb", total=total, visible=False)

            def advance(name: str, seed: int) -> None:
                bar.update(
                    task,
                    advance=1,
                    description=f"{name} seed {seed}",
                    visible=time.monotonic() - started > 1.0,
                )

            result = openb.run_openb(pods, nodes, names, seed_list, on_seed=advance)
        if plot is not None:
            openb.plot(result, plot)
    except DomainError as exc:
        raise fail(exc.message) from None
    if as_json:
        print_json(result.to_json())
        return
    print_table(
        f"openb {result.workload}: unallocated GPU % at arrived = 100 % ({len(seed_list)} seeds)",
        openb.SUMMARY_COLUMNS,
        openb.summary_rows(result),
        caption=f"{result.nodes} GPU nodes, {result.gpus} GPUs; lower is better"
        + (f"; curves in {plot}" if plot else ""),
    )

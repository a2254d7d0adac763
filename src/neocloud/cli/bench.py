"""`neocloud bench …`: the benchmarks. Each prints a table, or one JSON object with --json."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks: openb (vs the published FGD results), scale, api, billing.", no_args_is_help=True)


@app.command()
def scale(
    preset: str = typer.Option("campus-1gw", "--preset", help="The fleet preset to build and fill."),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="A preset parameter as NAME=VALUE (repeatable)."
    ),
    policy: str | None = typer.Option(
        None, "--policy", help="A placement policy name (default: the registry's default, else first-fit)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the request, placement and release streams."),
    cpu_time: bool = typer.Option(
        False,
        "--cpu-time",
        help="Time decisions in thread CPU time (steadier on a busy machine) instead of wall time.",
    ),
    json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Build a preset, place a seeded stream of mixed requests until 90 % allocated, and time it."""
    import time

    from neocloud.bench.scale import TARGETS, bench_policy, run_scale
    from neocloud.cli.fleet import parse_params
    from neocloud.cli.output import fail, print_json, print_table, progress
    from neocloud.domain import reference as ref
    from neocloud.domain.errors import InvalidInput

    try:
        params = parse_params(param)
        with progress(enabled=not json) as bar:
            task = bar.add_task("allocating", total=90)
            result = run_scale(
                preset,
                params,
                seed=seed,
                policy=bench_policy(policy),
                clock=time.thread_time if cpu_time else time.perf_counter,
                on_progress=lambda share: bar.update(task, completed=min(90, int(share * 100))),
            )
    except InvalidInput as exc:
        raise fail(exc.message, 2) from exc
    if json:
        print_json(result.as_dict())
        return
    rows = [
        ("fleet", f"{result.preset}: {result.nodes:,} nodes, {result.gpus:,} GPUs", ""),
        ("policy", result.policy, ""),
        ("build (s)", f"{result.build_seconds:.2f}", f"< {TARGETS['build_seconds']:g}"),
        ("peak RSS (MiB)", f"{result.peak_rss_mib:,.0f}", f"< {TARGETS['peak_rss_mib']:,.0f}"),
        (
            "decisions / placed / released / refused",
            f"{result.decisions:,} / {result.placements:,} / {result.releases:,} / {result.unschedulable:,}",
            "",
        ),
        ("allocated (%)", f"{result.allocated_pct:.1f}", ""),
        ("placements / s (all sizes)", f"{result.placements_per_second:,.0f}", ""),
        (
            "single-node placements / s",
            f"{result.single_node_placements_per_second:,.0f}",
            f">= {TARGETS['single_node_placements_per_second']:,.0f}",
        ),
        (
            "gangs in smallest domain (%)",
            f"{result.gangs_in_smallest_domain_pct:.1f}",
            f">= {TARGETS['gangs_in_smallest_domain_pct']:g}",
        ),
    ]
    low, high = ref.KUBE_SCHEDULER_PODS_PER_SECOND_5K_NODES
    print_table(
        "bench scale",
        ["", "measured", "target"],
        rows,
        caption=f"for comparison, kube-scheduler CI expects {low}-{high} pods/s at 5,000 nodes",
    )
    goal = f"<= {TARGETS['p99_ms_4096_gpu_gang']:g}"
    latency = [
        (size, f"{lat['n']:,}", f"{lat['p50']:.2f}", f"{lat['p99']:.2f}", goal if size == "4096" else "")
        for size, lat in result.latency_ms.items()
    ]
    print_table(
        "decision latency by request size", ["GPUs", "decisions", "p50 ms", "p99 ms", "p99 target"], latency
    )

"""`neocloud bench` for the systems around placement: the simulator, the console, health and Slurm
provisioning (bench.py keeps placement, the API and billing). `register` attaches them to bench's app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from neocloud.cli.output import fail, print_json, print_table
from neocloud.kernel.errors import DomainError


def register(app: typer.Typer) -> None:
    """Attach these commands to `neocloud bench`."""
    app.command("sim")(sim)
    app.command("console")(console_command)
    app.command("health")(health_command)
    app.command("provision")(provision)


def sim(
    superpod_days: float = typer.Option(
        30.0, "--superpod-days", min=0.01, help="simulated days of gb200-superpod"
    ),
    campus_days: float = typer.Option(365.0, "--campus-days", min=0.01, help="simulated days of campus-1gw"),
    repeat: int = typer.Option(1, "--repeat", min=1, max=9, help="runs per engine (the median is reported)"),
    slice_jobs: int = typer.Option(100, "--slice-jobs", min=1, help="jobs in the API slice of each scenario"),
    campus_slice_jobs: int = typer.Option(
        20, "--campus-slice-jobs", min=0, help="jobs in campus-1gw's API slice (0: none)"
    ),
    exact: bool = typer.Option(
        True, "--exact/--no-exact", help="also run gb200-superpod on the exact engine"
    ),
    exact_days: list[float] = typer.Option(
        [], "--exact-days", min=0.01, help="exact engine: these days instead (repeatable)"
    ),
    pooled: bool = typer.Option(True, "--pooled/--no-pooled", help="run the pooled engine (both scenarios)"),
    seed: int = typer.Option(0, "--seed"),
    demand: str | None = typer.Option(
        None, "--demand", help="override the presets' demand: philly or synthetic"
    ),
    json_output: bool = typer.Option(False, "--json", help="print one JSON document"),
) -> None:
    """Events/s and wall time of the simulator (gb200-superpod with Philly demand, campus-1gw), beside a
    slice of the same scenario through the real API server (seconds per event, and the ratio)."""
    from neocloud.bench import sim as bench_sim
    from neocloud.cli.output import err_console

    if demand not in (None, "philly", "synthetic"):
        raise fail("--demand must be philly or synthetic")
    say = err_console.print
    engines = []
    plan = [
        ("gb200-superpod", superpod_days, "pooled", "simpy"),
        ("gb200-superpod", superpod_days, "pooled", "heap"),
        ("campus-1gw", campus_days, "pooled", "simpy"),
        ("campus-1gw", campus_days, "pooled", "heap"),
    ]
    if not pooled:
        plan = []
    if exact:
        plan[:0] = [("gb200-superpod", d, "exact", "simpy") for d in exact_days or [superpod_days]]
    for name, days, engine, loop in plan:
        say(f"simulating {name} for {days:g} days ({engine} engine, {loop} loop)…")
        engines.append(bench_sim.run_engine(name, days, engine, loop, seed, repeat, demand))
    slices = []
    for name, jobs in (("gb200-superpod", slice_jobs), ("campus-1gw", campus_slice_jobs)):
        if jobs:
            say(f"API slice of {name}: {jobs} jobs through a neocloud serve process…")
            slices.append(bench_sim.api_slice(name, jobs, seed, demand))
    result = bench_sim.SimBench(engines, slices)
    if json_output:
        print_json(result.to_json())
        return
    rows = [
        (
            r["scenario"],
            r["engine"],
            r["loop"],
            f"{r['simulated_days']:g}",
            f"{r['events']:,}",
            f"{r['wall_seconds']:.1f}",
            f"{r['cpu_seconds']:.1f}",
            f"{r['events_per_second']:,.0f}",
            f"{r['events_per_cpu_second']:,.0f}",
            f"{r['api_seconds_per_event'] * 1000:.1f}" if r["api_seconds_per_event"] else "-",
            f"{r['speedup_vs_api']:,.0f}×" if r["speedup_vs_api"] else "-",
            f"{r['loop_events_per_cpu_second']:,.0f}" if r["loop_seconds"] else "-",
            f"{r['loop_speedup_vs_api']:,.0f}×" if r["loop_speedup_vs_api"] else "-",
            f"{r['loop_cpu_speedup_vs_api']:,.0f}×" if r["loop_cpu_speedup_vs_api"] else "-",
        )
        for r in result.rows()
    ]
    print_table(
        "bench sim (targets: ≥50,000 events/s, campus year < 600 s, ≥100× the API per event)",
        (
            "scenario",
            "engine",
            "loop",
            "days",
            "events",
            "wall s",
            "CPU s",
            "events/s",
            "events/CPU-s",
            "API ms/event",
            "vs API",
            "loop events/CPU-s",
            "loop vs API",
            "loop vs API (CPU)",
        ),
        rows,
    )
    agree = result.agreement()
    if agree is not None:
        typer.echo(
            f"pooled vs exact on gb200-superpod: utilisation {agree['utilisation_rel_diff']:+.2%}, "
            f"revenue {agree['revenue_rel_diff']:+.2%}"
        )


def console_command(
    preset: str = typer.Option("gb200-superpod", "--preset", help="fleet preset of the measured world"),
    tenants: int = typer.Option(12, "--tenants", min=1, help="tenants of the measured world"),
    requests: int = typer.Option(30, "--requests", min=1, help="requests per page (after two warm-ups)"),
    database: str = typer.Option("sqlite", "--database", help="memory or sqlite (a temporary file)"),
    map_runs: int = typer.Option(5, "--map-runs", min=1, help="fleet-map loads on campus-1gw"),
    no_browser: bool = typer.Option(False, "--no-browser", help="skip the browser's draw time of the map"),
    no_map: bool = typer.Option(False, "--no-map", help="skip the campus-1gw fleet map"),
    no_pages: bool = typer.Option(False, "--no-pages", help="only the campus-1gw fleet map"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of a table"),
) -> None:
    """p50/p95 of each console page on PRESET with a month of history (beside the demo fleet), and the
    fleet map's time on campus-1gw (server and, with Debian's chromium, the browser's draw)."""
    from neocloud.bench.console import run

    if database not in ("memory", "sqlite"):
        raise fail("--database is memory or sqlite")
    figures = run(
        preset=preset,
        tenants=tenants,
        requests=requests,
        database=database,
        map_runs=map_runs,
        browser=not no_browser,
        fleet_map=not no_map,
        pages=not no_pages,
    )
    if as_json:
        print_json(figures)
        return
    if not no_pages:
        _console_pages_table(figures)
    if "fleet_map" in figures:
        fm = figures["fleet_map"]
        print_table(
            f"fleet map on {fm['preset']} ({fm['trays']} trays, {fm['racks']} racks)",
            ("figure", "value"),
            [(k, v) for k, v in fm.items() if k not in ("preset",)],
            caption=f"target: drawn in < {figures['target_map_ms']:.0f} ms",
        )


def _console_pages_table(figures: dict[str, Any]) -> None:
    base = {r["page"]: r for r in figures["baseline"]["pages"]}
    rows = [
        (
            r["page"],
            base.get(r["page"], {}).get("p50_ms", "—"),
            base.get(r["page"], {}).get("p95_ms", "—"),
            r["p50_ms"],
            r["p95_ms"],
            r["status"],
        )
        for r in figures["measured"]["pages"]
    ]
    m = figures["measured"]
    print_table(
        f"bench console: ms per page, {figures['requests_per_page']} requests each, {figures['database']}",
        ("page", "demo p50", "demo p95", f"{m['preset']} p50", f"{m['preset']} p95", "status"),
        rows,
        caption=f"demo: {figures['baseline']['nodes']} nodes, 2 tenants; {m['preset']}: {m['nodes']} nodes, "
        f"{m['tenants']} tenants, a month of history; target p95 < {figures['target_p95_ms']:.0f} ms",
    )


def health_command(
    preset: str = typer.Option("gb200-superpod", "--preset", help="fleet preset (neocloud fleet presets)"),
    days: int = typer.Option(30, "--days", min=1, max=366, help="span simulated, reserved throughout"),
    spares: int = typer.Option(
        2, "--spares", min=0, help="default spare trays per NVL72 rack (per SU for HGX); 0/1/2 run beside it"
    ),
    seed: int = typer.Option(1, "--seed", help="first seed of the fault injector"),
    repeats: int = typer.Option(5, "--repeats", min=1, max=50, help="seeds per setting; figures are medians"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of tables"),
    profile: str = typer.Option("llama3", "--profile", help="failure profile: llama3, rsc1 or rsc-jobs"),
    calibrate: bool = typer.Option(
        False, "--calibrate", help="only the injector's calibration against each profile's published figures"
    ),
) -> None:
    """Failures at REFERENCE.md's rates on a 90 %-reserved fleet: availability, credits, spares."""
    from neocloud.bench import health

    if calibrate:
        _calibration(as_json)
        return
    try:
        default, runs = health.run(preset, days, spares, seed, repeats, profile)
    except DomainError as exc:
        raise fail(exc.message) from None
    if as_json:
        print_json(health.to_json(default, runs))
        return
    print_table(
        f"bench health: {preset}, {days} days, 90 % reserved, medians of {repeats} seeds from {seed}",
        ("spares", "rsv", "fail", "intr", "MTTR m", "p50 %", "min %", "<99.9", "cred %", "spare %"),
        [
            (
                f"{r.spares_per_rack}{' (default)' if r.spares_per_rack == default else ''}",
                r.reservations,
                r.failures,
                r.interruptions,
                r.mttr_minutes,
                r.availability_p50,
                r.availability_min,
                r.below_target,
                r.credits_pct_of_revenue,
                r.spare_utilisation_pct,
            )
            for r in runs
        ],
        caption="spares per rack (0: baseline); rsv reservations, fail failures, intr interruptions, MTTR mean "
        "time to remediate, p50/min availability per reservation, <99.9 reservations below target, cred SLA "
        "credits % of revenue, spare % spare utilisation. Repair times: REFERENCE.md (kernel/reference.py)",
    )


def _calibration(as_json: bool) -> None:
    from neocloud.bench.health_calibration import CHI2_7DF_999, calibration
    from neocloud.kernel import reference as ref

    cal = calibration()
    if as_json:
        print_json(cal.to_json())
        return
    print_table(
        f"injector calibration: failure mix, llama3 profile, 16,384 GPUs x 54 days ({cal.seeds} seeds summed)",
        ("cause", "Llama 3", "injector (mean)", "z"),
        [(k.kind, k.llama3, f"{k.injector_mean:.1f}", f"{k.z:+.2f}") for k in cal.by_kind],
        caption=f"chi-square {cal.chi2:.1f} on {len(cal.by_kind) - 1} degrees of freedom (0.1 % critical value "
        f"{CHI2_7DF_999}); z = (summed - expected) / sqrt(expected)",
    )
    print_table(
        f"job mean time between failures, each figure against the profile of its own population "
        f"(injector: {cal.seeds} seeds summed)",
        (
            "profile",
            "job GPUs",
            "published",
            "model",
            "resid.",
            "injector ± SE",
            "fails",
            "z",
            "ok",
            "figure",
        ),
        [
            (
                m.profile,
                m.job_gpus,
                _hours(m.published_hours),
                _hours(m.model_hours),
                f"{100 * m.residual:+.1f} %",
                f"{_hours(m.measured_hours)} ± {_hours(m.standard_error_hours)}",
                m.failures,
                f"{m.z:+.2f}",
                "yes" if m.within else "NO",
                m.published_by,
            )
            for m in cal.mtbf
        ],
        caption="model = 24 h / (job GPUs x the profile's failures per GPU-day); resid. = model / published - 1; "
        "z = (injector - model) / SE, SE = injector / sqrt(failures); ok = |z| <= 2 and |resid.| <= 10 % "
        "(2 SE of a 400-failure sample)",
    )
    fit, rsc1_r = cal.fit, float(ref.META_RSC1_FAILURES_PER_1000_NODE_DAYS)
    print_table(
        "rsc-jobs: one rate for the two job MTTFs measured on the research clusters",
        (
            "job GPUs",
            "published",
            "implied r (per 1,000 node-days)",
            "rsc-jobs model",
            "residual",
            "rsc1 model",
        ),
        [
            (
                g,
                _hours(ref.META_RSC_JOB_MTTF_MEASURED_HOURS[g]),
                f"{fit.implied[g]:.2f}",
                _hours(fit.model_hours(g)),
                f"{100 * fit.residuals[g]:+.1f} %",
                _hours(24_000 / (rsc1_r * g / fit.gpus_per_node)),
            )
            for g in fit.implied
        ],
        caption=f"r = geometric mean of the implied rates = {fit.per_1000_node_days:.2f} per 1,000 node-days "
        f"(least squares on log MTTF, one parameter, two points), {fit.per_1000_node_days / rsc1_r:.1f}x RSC-1's "
        f"r_f of {rsc1_r:.2f} behind the 1.8 h projection; docs/health.md, Calibration",
    )


def _hours(h: float) -> str:
    return f"{h / 24:.1f} d" if h >= 48 else f"{h:.2f} h"


def provision(
    allocations: int = typer.Option(100, "--allocations", min=1, help="Allocations per run."),
    runs: int = typer.Option(3, "--runs", min=1, help="Runs (figures are medians)."),
    slurm_conf: Path = typer.Option(
        Path("/tmp/neocloud-slurm/slurm.conf"),
        "--slurm-conf",
        help="a test cluster's slurm.conf (scripts/slurm-up.sh starts one; a cluster holding neocloud "
        "reservations is refused: the bench would delete them)",
    ),
    fleet_file: Path = typer.Option(
        Path("tests/slurm/fleet.yaml"),
        "--fleet",
        help="the fleet whose nodes are the cluster's (neocloud slurm config of it)",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Provisioning on a real Slurm: commit → Slurm reservation latency (p50/p99) and reservations
    converged per second for N allocations, beside bare `scontrol create reservation` for the same N."""
    from neocloud.bench.provision import run
    from neocloud.cli.output import fail, print_json, print_table
    from neocloud.fleet.file import load_fleet

    try:
        figures = run(slurm_conf, load_fleet(fleet_file), allocations=allocations, runs=runs)
    except (RuntimeError, OSError) as err:
        raise fail(str(err)) from None
    if json_output:
        print_json(figures)
        return
    rows = [
        ("latency p50 (ms)", figures["p50_ms"], figures["floor_p50_ms"]),
        ("latency p99 (ms)", figures["p99_ms"], figures["floor_p99_ms"]),
        (f"time for {allocations}, batch (s)", figures["batch_s"], figures["floor_s"]),
        (f"time for {allocations}, one at a time (s)", figures["sequential_s"], figures["floor_s"]),
        ("reservations per second", figures["converged_per_s"], figures["floor_per_s"]),
    ]
    print_table(
        f"bench provision ({allocations} allocations, median of {runs} runs)",
        ("figure", "neocloud", "scontrol alone (floor)"),
        rows,
        caption=f"ratio to floor: batch {figures['ratio_to_floor']}, one at a time {figures['sequential_ratio_to_floor']}",
    )

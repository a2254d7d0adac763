"""`neocloud bench …`: the benchmarks. Each prints a table, or one JSON object with --json."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from neocloud.cli.output import fail, print_json, print_table, progress
from neocloud.kernel.errors import DomainError

app = typer.Typer(
    help="Benchmarks: openb (vs the published FGD results), scale, api, billing, health.", no_args_is_help=True
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
    variant: str = typer.Option(
        None, "--variant", help="generate a variant from --pods (the default list), e.g. gpushare:80, cpu:250"
    ),
    variant_seed: int = typer.Option(1, "--variant-seed", help="seed of the generated variant"),
    bound: bool = typer.Option(False, "--bound", help="also compute the limit any placement could reach (HiGHS)"),
    departures: bool = typer.Option(False, "--departures", help="also replay with departures (deletion_time)"),
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

            result = openb.run_openb(
                pods, nodes, names, seed_list, on_seed=advance, variant=variant, variant_seed=variant_seed,
                bound=bound, departures=departures,
            )
        if plot is not None:
            openb.plot(result, plot)
    except DomainError as exc:
        raise fail(exc.message) from None
    if as_json:
        print_json(result.to_json())
        return
    print_table(
        f"openb {result.workload}: unallocated GPU % at arrived = 100 % ({len(seed_list)} seeds)",
        openb.summary_columns(result),
        openb.summary_rows(result),
        caption=f"{result.nodes} GPU nodes, {result.gpus} GPUs; lower is better"
        + (f"; curves in {plot}" if plot else ""),
    )



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
    from neocloud.kernel import reference as ref
    from neocloud.kernel.errors import InvalidInput

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



BENCH_PG_PORT = 55439
BENCH_PG_DIR = "/tmp/neocloud-bench-pg"


def _postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _start_postgres() -> str | None:
    """Start a throwaway PostgreSQL with the repository's script (needs the Debian package); None on failure."""
    import os
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[3] / "scripts" / "postgres-up.sh"
    if not script.exists():
        return None
    env = {
        **os.environ,
        "PGPORT": str(BENCH_PG_PORT),
        "PGDIR": f"{BENCH_PG_DIR}/data",
        "PGSOCK": f"{BENCH_PG_DIR}/sock",
    }
    done = subprocess.run([str(script)], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    return f"postgresql+psycopg://postgres@127.0.0.1:{BENCH_PG_PORT}/neocloud"


def _fresh_database(base: str) -> tuple[str, Callable[[], None]]:
    import uuid

    from sqlalchemy import create_engine, make_url, text

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def _bench_fleet(nodes: int) -> Any:
    from neocloud.fleet.fleet import Fleet, Node
    from neocloud.kernel.gpus import gpu_model
    from neocloud.kernel.ids import NodeId

    per_node = gpu_model("H100").gpus_per_node
    return Fleet.build(
        "bench",
        [
            Node(NodeId(f"b{i:04d}"), "H100", per_node, 0, 0, rack=f"r{i // 4}", nvlink=f"b{i:04d}")
            for i in range(nodes)
        ],
    )


@app.command("api")
def api(
    clients: int = typer.Option(16, "--clients", min=1, max=512, help="concurrent HTTP clients"),
    duration: float = typer.Option(
        5.0, "--duration", min=0.5, help="seconds per phase (list, quote, reserve)"
    ),
    servers: int = typer.Option(
        1, "--servers", min=1, max=8, help="server processes to start (without --url)"
    ),
    url: str | None = typer.Option(None, "--url", help="bench this running server instead (needs --token)"),
    token: str | None = typer.Option(None, "--token", help="tenant token for --url"),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="PostgreSQL to create the bench database on (default: "
        "NEOCLOUD_TEST_POSTGRES_URL, else start one, else SQLite)",
    ),
    nodes: int = typer.Option(256, "--nodes", min=1, help="H100 nodes in the bench fleet"),
    tenants: int = typer.Option(
        1, "--tenants", min=1, max=512, help="tenants the clients act for (client i is tenant i mod N)"
    ),
    database: str = typer.Option(
        "auto", "--database", help="auto (PostgreSQL if reachable, else SQLite), postgresql or sqlite"
    ),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
) -> None:
    """Requests/s and p50/p99 latency of list, quote, reserve and mixed read/write under concurrent clients."""
    import os
    import tempfile
    from pathlib import Path

    from neocloud.bench import api as bench_api
    from neocloud.bench.process import ServerProcess
    from neocloud.cli.output import err_console, fail, print_json, print_table

    say = err_console.print
    if url is not None:
        if not token:
            raise fail("--url needs --token (a tenant token)")
        result = bench_api.run([url], [token], clients=clients, duration=duration, database="external")
        _print_api(result, as_json, print_json, print_table)
        return

    if database not in ("auto", "postgresql", "sqlite"):
        raise fail("--database must be auto, postgresql or sqlite")
    cleanups: list[Callable[[], None]] = []
    base = None if database == "sqlite" else (database_url or os.environ.get("NEOCLOUD_TEST_POSTGRES_URL"))
    if base and not _postgres_reachable(base):
        say(f"[yellow]PostgreSQL at {base} is not reachable[/]")
        base = None
    if base is None and database != "sqlite":
        say("starting a throwaway PostgreSQL (scripts/postgres-up.sh)…")
        base = _start_postgres()
    if base is None and database == "postgresql":
        raise fail("--database postgresql: no PostgreSQL could be reached or started")
    tmp = Path(tempfile.mkdtemp(prefix="neocloud-bench-"))
    if base is None:
        say(
            "[yellow]no PostgreSQL available: falling back to SQLite (one writer; expect lower reserve rates)[/]"
        )
        db_url, kind = f"sqlite:///{tmp / 'neocloud.db'}", "sqlite"
    else:
        db_url, drop = _fresh_database(base)
        cleanups.append(drop)
        kind = "postgresql"
    started: list[ServerProcess] = []
    try:
        from neocloud.bootstrap import Settings, build_services, upgrade_database
        from neocloud.control.domain.tenancy import Role

        settings = Settings(data_dir=tmp, database_url=db_url, default_quota_gpus=None)  # no quota in the way
        upgrade_database(settings)
        services = build_services(settings)
        services.control.fleet.import_fleet(_bench_fleet(nodes))
        names = [f"bench-{i}" for i in range(tenants)]
        for name in names:
            services.control.tenancy.create_tenant(name)
        tokens = [services.control.tenancy.create_token(name, Role.TENANT_ADMIN)[1] for name in names]
        if services.engine is not None:
            services.engine.dispose()
        say(f"starting {servers} server process(es) on {kind}…")
        for _ in range(servers):
            started.append(ServerProcess(db_url, data_dir=tmp, log=tmp / "server.log").start())
        result = bench_api.run(
            [s.url for s in started], tokens, clients=clients, duration=duration, database=kind
        )
    finally:
        for s in started:
            s.stop()
        for cleanup in cleanups:
            cleanup()
    _print_api(result, as_json, print_json, print_table)


def _print_api(
    result: Any, as_json: bool, print_json: Callable[[Any], None], print_table: Callable[..., None]
) -> None:
    if as_json:
        print_json(result.to_json())
        return
    rows = [
        (
            p.operation,
            p.requests,
            p.errors,
            f"{p.per_second:.1f}",
            f"{p.p50_ms:.1f}",
            f"{p.p99_ms:.1f}",
            " ".join(f"{k}:{v}" for k, v in p.statuses.items()),
        )
        for p in result.phases
    ]
    caption = "  ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in result.verdicts().items())
    print_table(
        f"API benchmark — {result.clients} clients, {result.servers} server(s), {result.database}",
        ("operation", "requests", "errors", "ok/s", "p50 ms", "p99 ms", "statuses"),
        rows,
        caption=caption,
    )


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


@app.command("sim")
def sim(
    superpod_days: float = typer.Option(30.0, "--superpod-days", min=0.01, help="simulated days of gb200-superpod"),
    campus_days: float = typer.Option(365.0, "--campus-days", min=0.01, help="simulated days of campus-1gw"),
    repeat: int = typer.Option(1, "--repeat", min=1, max=9, help="runs per engine (the median is reported)"),
    slice_jobs: int = typer.Option(100, "--slice-jobs", min=1, help="jobs in the API slice of each scenario"),
    campus_slice_jobs: int = typer.Option(20, "--campus-slice-jobs", min=0, help="jobs in campus-1gw's API slice (0: none)"),
    exact: bool = typer.Option(True, "--exact/--no-exact", help="also run gb200-superpod on the exact engine"),
    seed: int = typer.Option(0, "--seed"),
    demand: str | None = typer.Option(None, "--demand", help="override the presets' demand: philly or synthetic"),
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
    plan = [("gb200-superpod", superpod_days, "pooled", "simpy"), ("gb200-superpod", superpod_days, "pooled", "heap"),
            ("campus-1gw", campus_days, "pooled", "simpy"), ("campus-1gw", campus_days, "pooled", "heap")]
    if exact:
        plan.insert(0, ("gb200-superpod", superpod_days, "exact", "simpy"))
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
        (r["scenario"], r["engine"], r["loop"], f"{r['simulated_days']:g}", f"{r['events']:,}",
         f"{r['wall_seconds']:.1f}", f"{r['cpu_seconds']:.1f}", f"{r['events_per_second']:,.0f}",
         f"{r['events_per_cpu_second']:,.0f}",
         f"{r['api_seconds_per_event'] * 1000:.1f}" if r["api_seconds_per_event"] else "-",
         f"{r['speedup_vs_api']:,.0f}×" if r["speedup_vs_api"] else "-")
        for r in result.rows()
    ]
    print_table(
        "bench sim (targets: ≥50,000 events/s, campus year < 600 s, ≥100× the API per event)",
        ("scenario", "engine", "loop", "days", "events", "wall s", "CPU s", "events/s", "events/CPU-s",
         "API ms/event", "vs API"),
        rows,
    )
    agree = result.agreement()
    if agree is not None:
        typer.echo(
            f"pooled vs exact on gb200-superpod: utilisation {agree['utilisation_rel_diff']:+.2%}, "
            f"revenue {agree['revenue_rel_diff']:+.2%}"
        )


@app.command("console")
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
    figures = run(preset=preset, tenants=tenants, requests=requests, database=database, map_runs=map_runs,
                  browser=not no_browser, fleet_map=not no_map, pages=not no_pages)
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
        (r["page"], base.get(r["page"], {}).get("p50_ms", "—"), base.get(r["page"], {}).get("p95_ms", "—"),
         r["p50_ms"], r["p95_ms"], r["status"])
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


@app.command("health")
def health_command(
    preset: str = typer.Option("gb200-superpod", "--preset", help="fleet preset (neocloud fleet presets)"),
    days: int = typer.Option(30, "--days", min=1, max=366, help="span simulated, reserved throughout"),
    spares: int = typer.Option(
        2, "--spares", min=0, help="default spare trays per NVL72 rack (per SU for HGX); 0/1/2 run beside it"
    ),
    seed: int = typer.Option(1, "--seed", help="first seed of the fault injector"),
    repeats: int = typer.Option(5, "--repeats", min=1, max=50, help="seeds per setting; figures are medians"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of tables"),
) -> None:
    """Failures at REFERENCE.md's rates on a 90 %-reserved fleet: availability, credits, spares."""
    from neocloud.bench import health

    try:
        default, runs = health.run(preset, days, spares, seed, repeats)
    except DomainError as exc:
        raise fail(exc.message) from None
    if as_json:
        print_json(health.to_json(default, runs))
        return
    print_table(
        f"bench health: {preset}, {days} days, 90 % reserved, medians of {repeats} seeds from {seed}",
        ("spares", "rsv", "fail", "intr", "MTTR m", "p50 %", "min %", "<99.9", "cred %", "spare %"),
        [
            (f"{r.spares_per_rack}{' (default)' if r.spares_per_rack == default else ''}", r.reservations,
             r.failures, r.interruptions, r.mttr_minutes, r.availability_p50, r.availability_min, r.below_target,
             r.credits_pct_of_revenue, r.spare_utilisation_pct)
            for r in runs
        ],
        caption="spares per rack (0: baseline); rsv reservations, fail failures, intr interruptions, MTTR mean "
        "time to remediate, p50/min availability per reservation, <99.9 reservations below target, cred SLA "
        "credits % of revenue, spare % spare utilisation. Repair times: REFERENCE.md (kernel/reference.py)",
    )
    cal = health.calibration()
    print_table(
        "injector calibration: Llama 3, 16,384 H100 x 54 days (mean of 5 seeds)",
        ("cause", "Llama 3", "injector"),
        [(name, want, f"{got:.1f}") for name, want, got in cal.by_kind],
        caption=f"chi-square {cal.chi2:.1f} (7 degrees of freedom; 0.1 % critical value 24.3)",
    )
    print_table(
        "job mean time between failures",
        ("job GPUs", "injector (measured)", "injector (rate)", "Meta research clusters"),
        [(g, _hours(m), _hours(model), _hours(meta)) for g, m, model, meta in cal.mtbf],
        caption="Meta's figures (HPCA 2025) come from other clusters than Llama 3's rates",
    )


def _hours(h: float) -> str:
    return f"{h / 24:.1f} d" if h >= 48 else f"{h:.1f} h"


@app.command("provision")
def provision(
    allocations: int = typer.Option(100, "--allocations", min=1, help="Allocations per run."),
    runs: int = typer.Option(3, "--runs", min=1, help="Runs (figures are medians)."),
    slurm_conf: Path = typer.Option(Path("/tmp/neocloud-slurm/slurm.conf"), "--slurm-conf", envvar="SLURM_CONF",
                                    help="the cluster's slurm.conf (scripts/slurm-up.sh starts a test cluster)"),
    fleet_file: Path = typer.Option(Path("tests/slurm/fleet.yaml"), "--fleet",
                                    help="the fleet whose nodes are the cluster's (neocloud slurm config of it)"),
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
    print_table(f"bench provision ({allocations} allocations, median of {runs} runs)",
                ("figure", "neocloud", "scontrol alone (floor)"), rows,
                caption=f"ratio to floor: batch {figures['ratio_to_floor']}, one at a time {figures['sequential_ratio_to_floor']}")

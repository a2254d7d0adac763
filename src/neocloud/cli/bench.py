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
    help="Benchmarks: openb (vs the published FGD results), scale, api, billing, health.",
    no_args_is_help=True,
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
    bound: bool = typer.Option(
        False, "--bound", help="also compute the limit any placement could reach (HiGHS)"
    ),
    departures: bool = typer.Option(
        False, "--departures", help="also replay with departures (deletion_time)"
    ),
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
                pods,
                nodes,
                names,
                seed_list,
                on_seed=advance,
                variant=variant,
                variant_seed=variant_seed,
                bound=bound,
                departures=departures,
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
        ("digest of every decision", result.digest, ""),
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
            [s.url for s in started],
            tokens,
            clients=clients,
            duration=duration,
            database=kind,
            cpu=lambda: sum(bench_api.process_cpu_seconds(s.proc.pid) for s in started if s.proc),
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
            "" if p.server_cpu_ms is None else f"{p.server_cpu_ms:.2f}",
        )
        for p in result.phases
    ]
    caption = "  ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in result.verdicts().items())
    print_table(
        f"API benchmark — {result.clients} clients, {result.servers} server(s), {result.database}",
        ("operation", "requests", "errors", "ok/s", "p50 ms", "p99 ms", "statuses", "server CPU ms/req"),
        rows,
        caption=caption,
    )


@app.command("billing")
def billing(
    allocations: int = typer.Option(
        10_000, "--allocations", min=1, help="Synthetic allocations in the month."
    ),
    nodes: int = typer.Option(100_000, "--nodes", min=1, help="Nodes in the synthetic fleet."),
    seed: int = typer.Option(1, "--seed", help="Seed of the generator's random streams."),
    store: str = typer.Option("memory", "--store", help="memory, sqlite (a temporary file) or postgres"),
    database_url: str | None = typer.Option(
        None, "--database-url", help="PostgreSQL URL for --store postgres (a temporary schema is used)"
    ),
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


def _register_systems() -> None:
    from neocloud.cli.bench_systems import register

    register(app)


_register_systems()

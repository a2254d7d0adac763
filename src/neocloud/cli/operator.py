"""Operator commands, run where the database is: `db upgrade`, `fleet import`, `nodes list`,
`tenants create|list|suspend|resume`, `tokens create`, `quotas set|show`, `worker`. They call bootstrap directly (no API, no token needed:
whoever can reach the database is the operator)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from neocloud.bootstrap import Services, Settings, build_services, upgrade_database
from neocloud.cli.backoff import Backoff
from neocloud.cli.output import err_console, fail, print_json, print_table
from neocloud.control.domain.tenancy import Principal, Role
from neocloud.kernel.errors import DomainError, Unavailable

db_app = typer.Typer(help="The control plane's database: migrate and check.", no_args_is_help=True)
nodes_app = typer.Typer(help="Nodes as the control plane holds them.", no_args_is_help=True)

JsonOpt = typer.Option(False, "--json", help="print one JSON document")
DataDirOpt = typer.Option(None, "--data-dir", envvar="NEOCLOUD_DATA_DIR", help="where the SQLite file lives")
DbUrlOpt = typer.Option(
    None,
    "--database-url",
    envvar="NEOCLOUD_DATABASE_URL",
    help="postgresql+psycopg://… (default: SQLite in --data-dir)",
)
OPERATOR = Principal("cli", Role.OPERATOR)


@contextmanager
def _services(
    data_dir: Path | None, database_url: str | None, *, check: bool = True, wait: Backoff | None = None
) -> Iterator[Services]:
    """Services from the options; domain errors (incl. an un-migrated database) exit 1 with their message.
    With `wait`, an unreachable database is retried with that backoff instead."""
    try:
        while True:
            try:
                services = build_services(Settings.from_env(data_dir, database_url), check=check)
                break
            except Unavailable as err:
                if wait is None:
                    raise
                delay = wait.failed()
                err_console.print(
                    f"database unavailable ({wait.in_a_row} in a row): {err.message}; "
                    f"retrying in {delay:.1f}s",
                    markup=False,
                )
                time.sleep(delay)
        try:
            yield services
        finally:
            if services.engine is not None:
                services.engine.dispose()
    except DomainError as err:
        raise fail(err.message) from None


def db_upgrade(
    data_dir: Path | None = DataDirOpt, database_url: str | None = DbUrlOpt, as_json: bool = JsonOpt
) -> None:
    """Create or migrate the schema to this version of neocloud."""
    settings = Settings.from_env(data_dir, database_url)
    try:
        before, after = upgrade_database(settings)
    except DomainError as err:
        raise fail(err.message) from None
    where = settings.resolved_database_url.split("@")[-1]
    if as_json:
        print_json({"database": where, "from": before, "to": after})
    else:
        err_console.print(f"database {where}: schema {before or 'none'} → {after}")


def db_check(
    data_dir: Path | None = DataDirOpt, database_url: str | None = DbUrlOpt, as_json: bool = JsonOpt
) -> None:
    """Exit 0 when the database is at this neocloud's schema, 1 (saying what to run) otherwise."""
    with _services(data_dir, database_url):
        pass
    if as_json:
        print_json({"ok": True})
    else:
        err_console.print("database schema is current")


def fleet_import(
    target: str = typer.Argument(
        ..., help="a preset name (see `neocloud fleet presets`) or a fleet file (YAML)"
    ),
    param: list[str] = typer.Option([], "--param", "-p", help="a preset parameter NAME=VALUE (repeatable)"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Add a fleet's nodes to the control plane (nodes already present are skipped)."""
    from neocloud.cli.fleet import parse_params, resolve

    try:
        fleet = resolve(target, parse_params(param))
    except (DomainError, OSError) as err:
        raise fail(f"cannot load the fleet {target!r}: {getattr(err, 'message', err)}") from None
    with _services(data_dir, database_url) as services:
        summary = services.control.fleet.import_fleet(fleet)
    if as_json:
        print_json(summary)
    else:
        print_table(
            f"fleet {summary['fleet']}",
            ("nodes", "added", "skipped", "GPUs"),
            [
                (
                    summary["nodes"],
                    summary["added"],
                    summary["skipped"],
                    ", ".join(f"{m} {n}" for m, n in summary["gpus"].items()),
                )
            ],
        )


def nodes_list(
    limit: int = typer.Option(100, "--limit", min=1, max=500),
    cursor: str | None = typer.Option(None, "--cursor"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Every node, its state, and which allocation holds each GPU now."""
    from neocloud.control.app.views import PageRequest

    with _services(data_dir, database_url) as services:
        page = services.control.fleet.list_nodes(OPERATOR, PageRequest(limit, cursor))
    print_page(
        "nodes",
        ("id", "model", "GPUs", "state", "held", "path"),
        page,
        lambda n: (n.id, n.model, n.gpus, n.state, sum(1 for a in n.gpu_allocations if a), n.path),
        as_json,
    )


def vars_of(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}


def print_page(
    title: str,
    headers: tuple[str, ...],
    page: Any,
    row: Callable[[Any], tuple[Any, ...]],
    as_json: bool,
) -> None:
    """One page of a list use case: `{"items", "next_cursor", "total"}` with --json, else a table whose
    caption says how many of the total it shows and the --cursor of the next page."""
    if as_json:
        print_json(
            {"items": [vars_of(x) for x in page.items], "next_cursor": page.next_cursor, "total": page.total}
        )
        return
    more = f"; next --cursor {page.next_cursor}" if page.next_cursor else ""
    print_table(
        title, headers, [row(x) for x in page.items], caption=f"{len(page.items)} of {page.total}{more}"
    )


def worker(
    interval: float = typer.Option(5.0, "--interval", min=0.05, help="seconds between passes"),
    once: bool = typer.Option(False, "--once", help="run one pass and exit"),
    max_items: int = typer.Option(500, "--max-items", min=1),
    meter_every: float = typer.Option(
        60.0, "--meter-every", min=0, help="seconds between metering passes into the usage ledger (0: never)"
    ),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Run the reconciler: start, provision, end and preempt allocations as time passes, and meter
    settled usage into the ledger. Safe to run in several processes against one PostgreSQL. A failing
    pass (the database down, say; at start too) is reported once and retried with capped exponential
    backoff."""
    last_meter = float("-inf")
    backoff = Backoff(interval)
    with _services(data_dir, database_url, wait=None if once else backoff) as services:
        while True:
            try:
                report = services.control.reconcile(max_items=max_items)
                if services.health is not None:  # node repairs and burn-in as time passes; webhooks due
                    for source in services.health_sources:  # Slurm's DOWN/DRAIN (docs/slurm.md)
                        services.health.poll(source)
                    services.health.tick()
                    services.health.notify_preemptions()
                    services.health.webhooks.dispatch()
                if services.billing and meter_every and time.monotonic() - last_meter >= meter_every:
                    services.billing.meter()
                    last_meter = time.monotonic()
            except Exception as err:
                if once:
                    raise fail(getattr(err, "message", None) or f"{type(err).__name__}: {err}") from None
                delay = backoff.failed()
                err_console.print(
                    f"pass failed ({backoff.in_a_row} in a row): {type(err).__name__}: "
                    f"{getattr(err, 'message', err)}; retrying in {delay:.1f}s",
                    markup=False,
                )
                if not _pause(delay):
                    return
                continue
            if backoff.succeeded():
                err_console.print("passes succeed again")
            if once:
                if as_json:
                    print_json({**vars_of(report), "total": report.total})
                else:
                    err_console.print(
                        f"reconciled: {report.total} transitions ({', '.join(report.details) or 'nothing due'})"
                    )
                return
            if report.total or report.details:
                err_console.print(f"{report.total} transitions: {', '.join(report.details)}")
            if not _pause(interval):
                return


def _pause(seconds: float) -> bool:
    """Sleep; False (after saying so) when Ctrl-C stopped the worker."""
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        err_console.print("worker stopped")
        return False
    return True


def bench_admission(
    stores: list[str] = typer.Option(
        ["memory", "sqlite"], "--store", help="memory, sqlite, postgres (repeatable)"
    ),
    nodes: int = typer.Option(64, "--nodes", min=1, max=100_000),
    requests: int = typer.Option(200, "--requests", min=1),
    repeats: int = typer.Option(3, "--repeats", min=1),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        envvar="NEOCLOUD_TEST_POSTGRES_URL",
        help="PostgreSQL for --store postgres (a fresh schema is used and dropped)",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Reservations admitted per second and reconcile cost, per store (median of repeats)."""
    from neocloud.bench import admission

    results = []
    for kind in stores:
        if kind not in ("memory", "sqlite", "postgres"):
            raise fail(f"unknown store {kind!r}: use memory, sqlite or postgres")
        try:
            results.append(admission.run(kind, nodes, requests, repeats, database_url))
        except ValueError as err:
            raise fail(str(err)) from None
    if as_json:
        print_json([vars_of(r) for r in results])
        return
    print_table(
        f"admission: {requests} whole-node reservations on {nodes} H100 nodes, median of {repeats}",
        ("store", "reserve/s", "runs", "reconcile ms/transition"),
        [
            (
                r.store,
                f"{r.reserve_per_s:.1f}",
                " ".join(f"{x:.0f}" for x in r.reserve_runs),
                f"{r.reconcile_ms_per_transition:.2f}",
            )
            for r in results
        ],
    )


def register(app: typer.Typer) -> None:
    """Attach the operator commands to the root app (and `import` to the existing `fleet` group)."""
    from neocloud.cli import bench, fleet

    db_app.command("upgrade")(db_upgrade)
    db_app.command("check")(db_check)
    nodes_app.command("list")(nodes_list)
    fleet.app.command("import")(fleet_import)
    bench.app.command("admission")(bench_admission)
    app.add_typer(db_app, name="db")
    app.add_typer(nodes_app, name="nodes")
    app.command("worker")(worker)

"""Server-side commands: `neocloud serve` (the API plus the reconciler) and `neocloud demo`."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from neocloud.cli.backoff import Backoff
from neocloud.cli.output import fail

log = logging.getLogger("neocloud.server")

RECONCILE_EVERY_S = 1.0
METER_EVERY_S = 60.0


class ReconcilerLoop:
    """Calls `control.reconcile()` every `interval` seconds on a daemon thread until `stop()`, and
    `meter()` (billing's metering pass, when given) after the first pass and then every `meter_every`
    seconds, as `neocloud worker` does, so that the ledger keeps up with the allocations.

    A failing pass is logged and retried with capped exponential backoff (one log line per failure, the
    traceback only for the first of a streak): the reconciler is idempotent, so a pass cut short (or a
    server killed mid-pass) is finished by the next one, in this process or another.
    """

    def __init__(
        self,
        control: Any,
        interval: float = RECONCILE_EVERY_S,
        *,
        meter: Callable[[], object] | None = None,
        meter_every: float = METER_EVERY_S,
    ) -> None:
        self._control = control
        self._interval = interval
        self._meter = meter
        self._meter_every = meter_every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reconciler", daemon=True)
        self.passes = 0
        self.failures = 0
        self.meter_passes = 0

    def start(self) -> ReconcilerLoop:
        self._thread.start()
        return self

    def _run(self) -> None:
        backoff = Backoff(self._interval)
        last_meter = float("-inf")
        while not self._stop.is_set():
            try:
                self._control.reconcile()
                if self._meter is not None and time.monotonic() - last_meter >= self._meter_every:
                    self._meter()
                    last_meter = time.monotonic()
                    self.meter_passes += 1
                self.passes += 1
            except Exception as err:
                self.failures += 1
                delay = backoff.failed()
                log.warning(
                    "reconcile pass failed (%d in a row): %s: %s; retrying in %.1fs",
                    backoff.in_a_row,
                    type(err).__name__,
                    err,
                    delay,
                    exc_info=backoff.in_a_row == 1,
                )
                self._stop.wait(delay)
                continue
            if backoff.succeeded():
                log.warning("reconcile passes succeed again")
            self._stop.wait(self._interval)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


class Terminated(Exception):
    """SIGTERM arrived (see `sigterm_unwinds`)."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Inside the block SIGTERM raises Terminated, which the end of the block swallows: the stack
    unwinds and every `finally` runs, as for Ctrl-C (SIGTERM's default action kills the process on the
    spot, leaving the demo's temporary directory behind). While uvicorn serves it handles SIGTERM
    itself, shuts down gracefully and then raises the signal again, which lands here. Off the main
    thread (where signals cannot be handled) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    except Terminated:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_server(
    app: Any,
    control: Any,
    host: str,
    port: int,
    *,
    reconcile_every: float = RECONCILE_EVERY_S,
    meter: Callable[[], object] | None = None,
    meter_every: float = METER_EVERY_S,
    log_level: str = "warning",
) -> None:
    """uvicorn in the foreground with the reconciler (and `meter`, every `meter_every` seconds) beside
    it; Ctrl-C (SIGINT) or SIGTERM stops both, and this returns."""
    import uvicorn

    loop = (
        ReconcilerLoop(control, reconcile_every, meter=meter, meter_every=meter_every).start()
        if reconcile_every > 0
        else None
    )
    try:
        with sigterm_unwinds():
            uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
    finally:
        if loop is not None:
            loop.stop()


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="interface to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port"),
    data_dir: str | None = typer.Option(
        None, "--data-dir", help="state directory (default NEOCLOUD_DATA_DIR)"
    ),
    database_url: str | None = typer.Option(None, "--database-url", help="default NEOCLOUD_DATABASE_URL"),
    reconcile_every: float = typer.Option(
        RECONCILE_EVERY_S,
        "--reconcile-every",
        min=0.0,
        help="seconds between reconciler passes (0: no reconciler)",
    ),
    meter_every: float = typer.Option(
        METER_EVERY_S,
        "--meter-every",
        min=0.0,
        help="seconds between metering passes into the usage ledger (0: never; a worker must meter)",
    ),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level"),
) -> None:
    """Run the API server (OpenAPI docs at /docs) with the reconciler and metering. Refuses an un-migrated
    database."""
    from neocloud.api.app import create_app
    from neocloud.bootstrap import Settings, build_services
    from neocloud.kernel.errors import DomainError

    settings = Settings.from_env(data_dir, database_url)
    try:
        services = build_services(settings)
    except DomainError as exc:  # SchemaMismatch among them
        raise fail(str(exc)) from None
    except Exception as exc:  # the driver's error when the database cannot be opened
        raise fail(f"cannot open the database {settings.resolved_database_url}: {exc}") from None
    from neocloud.cli.output import err_console

    err_console.print(f"neocloud API on http://{host}:{port} (docs: /docs); Ctrl-C stops it")
    meters = services.billing is not None and meter_every > 0 and reconcile_every > 0
    if not meters:
        err_console.print(
            "[bold yellow]warning:[/] this server does not meter usage (--meter-every 0 or "
            "--reconcile-every 0): run `neocloud worker` beside it, or the ledger falls behind and "
            "`neocloud billing reconcile` reports the lag as differences"
        )
    run_server(
        create_app(services),
        services.control,
        host,
        port,
        reconcile_every=reconcile_every,
        meter=services.billing.meter if meters and services.billing is not None else None,
        meter_every=meter_every,
        log_level=log_level,
    )


DEMO_PROVISION_DELAY_S = 5.0
DB_FILES = ("neocloud.db", "neocloud.db-wal", "neocloud.db-shm")


def _demo_panel(url: str, data_dir: Path, world: Any) -> Any:
    """What the demo is: the facts in a panel (every row fits 80 columns: a token is 46 characters)."""
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    grid.add_row("console", f"{url}/  (sign in with a token below)")
    grid.add_row("API", url)
    grid.add_row("API docs", f"{url}/docs")
    grid.add_row("data dir", str(data_dir))
    grid.add_row(
        "fleet",
        ", ".join(f"{g} {m}" for m, g in world.fleet_summary["gpus"].items())
        + f" on {world.fleet_summary['nodes']} nodes",
    )
    if world.past_month:
        grid.add_row(
            "past month", f"{world.past_month} invoiced: {len(world.invoices)} invoices and credit notes"
        )
    grid.add_row("operator token", world.operator_token)
    for name, token in world.tenant_tokens.items():
        grid.add_row(f"{name} token", token)
    return Panel(grid, title="[bold]neocloud demo[/]", subtitle="Ctrl-C stops it", border_style="green")


def _demo_hints(url: str, data_dir: Path, world: Any) -> list[str]:
    """Commands to paste, one per line, never wrapped (printed outside the panel, with soft wrap)."""
    invoice = world.invoice_of.get("acme")
    lines = [
        f"the web console: open {url}/ and sign in with a token above",
        "  (a tenant's: reservations, usage, bills; the operator's: fleet map, revenue)",
        "try, as acme:",
        f"  export NEOCLOUD_URL={url}",
        f"  export NEOCLOUD_TOKEN={world.tenant_tokens['acme']}",
        "  neocloud reservations list",
        "  neocloud reserve --model H100 --gpus 16 --hours 4",
        "  neocloud reserve --model GB200 --gpus 72 --hours 8 --shape whole-nvl72 --quote",
        "  neocloud instances create --model H100 --nodes 1 --spot",
        "  neocloud instances list --json",
        "  neocloud usage --by day",
        "  neocloud invoices list",
    ]
    if invoice is not None:
        lines += [
            f"  INVOICE={invoice}",
            "  neocloud invoices show $INVOICE",
            "  neocloud invoices download $INVOICE --format html > invoice.html",
        ]
    lines += [
        '  curl -H "Authorization: Bearer $NEOCLOUD_TOKEN" $NEOCLOUD_URL/v1/reservations',
        "as the operator, on the database:",
        f"  export NEOCLOUD_DATA_DIR={data_dir}",
        "  neocloud revenue --by tenant",
        f"  neocloud billing reconcile --period {world.past_month}" if world.past_month else "",
        "  neocloud billing reconcile",
    ]
    return [line for line in lines if line]


def demo(
    host: str = typer.Option("127.0.0.1", "--host", help="interface to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port"),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="state directory, wiped first (default: a fresh temp dir)"
    ),
    provision_delay: float = typer.Option(
        DEMO_PROVISION_DELAY_S,
        "--provision-delay",
        min=0.0,
        help="seconds the fake provisioner takes to make nodes ready",
    ),
) -> None:
    """A fresh SQLite control plane with a demo fleet, two tenants, a finished and invoiced past month,
    reservations and instances, served with the reconciler and metering on http://HOST:PORT (docs at
    /docs). Ctrl-C (or SIGTERM) stops it and removes its temporary data dir."""
    import shutil
    import tempfile
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from neocloud.api.app import create_app
    from neocloud.bootstrap import Settings, build_services, manual_clock, upgrade_database
    from neocloud.cli.demo import finished_month, seed_accounts, seed_past_month, seed_work
    from neocloud.cli.output import console

    temporary = data_dir is None
    where = Path(tempfile.mkdtemp(prefix="neocloud-demo-")) if data_dir is None else data_dir.expanduser()
    with sigterm_unwinds():
        try:
            where.mkdir(parents=True, exist_ok=True)
            for name in DB_FILES:
                (where / name).unlink(missing_ok=True)
            settings = Settings(data_dir=where, provision_delay=timedelta(seconds=provision_delay))
            upgrade_database(settings)
            month = finished_month(datetime.now(UTC))
            clock = manual_clock(month.start)
            past = build_services(replace(settings, provision_delay=timedelta(0)), clock=clock)
            try:
                assert past.billing is not None
                world = seed_accounts(past.control)
                seed_past_month(past.control, past.billing, clock, world, month)
            finally:
                past.close()
            services = build_services(settings)
            seed_work(services.control, datetime.now(UTC), world)
            url = f"http://{host}:{port}"
            console.print(_demo_panel(url, where, world))
            for line in _demo_hints(url, where, world):
                console.print(line, soft_wrap=True, markup=False, highlight=False)
            meter = services.billing.meter if services.billing is not None else None
            run_server(create_app(services), services.control, host, port, meter=meter)
            console.print("[green]demo stopped[/]")
        finally:
            if temporary:
                shutil.rmtree(where, ignore_errors=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)

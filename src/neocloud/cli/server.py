"""Server-side commands: `neocloud serve` (the API plus the reconciler) and `neocloud demo`."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import typer

from neocloud.cli.backoff import Backoff
from neocloud.cli.output import fail

log = logging.getLogger("neocloud.server")

RECONCILE_EVERY_S = 1.0


class ReconcilerLoop:
    """Calls `control.reconcile()` every `interval` seconds on a daemon thread until `stop()`.

    A failing pass is logged and retried with capped exponential backoff (one log line per failure, the
    traceback only for the first of a streak): the reconciler is idempotent, so a pass cut short (or a
    server killed mid-pass) is finished by the next one, in this process or another.
    """

    def __init__(self, control: Any, interval: float = RECONCILE_EVERY_S) -> None:
        self._control = control
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reconciler", daemon=True)
        self.passes = 0
        self.failures = 0

    def start(self) -> ReconcilerLoop:
        self._thread.start()
        return self

    def _run(self) -> None:
        backoff = Backoff(self._interval)
        while not self._stop.is_set():
            try:
                self._control.reconcile()
                self.passes += 1
            except Exception as err:
                self.failures += 1
                delay = backoff.failed()
                log.warning("reconcile pass failed (%d in a row): %s: %s; retrying in %.1fs", backoff.in_a_row,
                            type(err).__name__, err, delay, exc_info=backoff.in_a_row == 1)
                self._stop.wait(delay)
                continue
            if backoff.succeeded():
                log.warning("reconcile passes succeed again")
            self._stop.wait(self._interval)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def run_server(
    app: Any,
    control: Any,
    host: str,
    port: int,
    *,
    reconcile_every: float = RECONCILE_EVERY_S,
    log_level: str = "warning",
) -> None:
    """uvicorn in the foreground with the reconciler beside it; Ctrl-C (SIGINT) or SIGTERM stops both."""
    import uvicorn

    loop = ReconcilerLoop(control, reconcile_every).start() if reconcile_every > 0 else None
    try:
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
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level"),
) -> None:
    """Run the API server (OpenAPI docs at /docs) with the reconciler. Refuses an un-migrated database."""
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
    run_server(
        create_app(services),
        services.control,
        host,
        port,
        reconcile_every=reconcile_every,
        log_level=log_level,
    )


DEMO_PROVISION_DELAY_S = 5.0
DB_FILES = ("neocloud.db", "neocloud.db-wal", "neocloud.db-shm")


def _demo_panel(url: str, data_dir: Path, world: Any) -> Any:
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan")
    grid.add_column()
    grid.add_row("API", url)
    grid.add_row("API docs", f"{url}/docs")
    grid.add_row("data dir", str(data_dir))
    grid.add_row(
        "fleet",
        ", ".join(f"{g} {m}" for m, g in world.fleet_summary["gpus"].items())
        + f" on {world.fleet_summary['nodes']} nodes",
    )
    grid.add_row("operator token", world.operator_token)
    for name, token in world.tenant_tokens.items():
        grid.add_row(f"{name} token", token)
    acme = world.tenant_tokens["acme"]
    grid.add_row("", "")
    grid.add_row("try", f"export NEOCLOUD_URL={url}")
    grid.add_row("", f"export NEOCLOUD_TOKEN={acme}")
    grid.add_row("", "neocloud reservations list")
    grid.add_row("", "neocloud reserve --model H100 --gpus 16 --hours 4")
    grid.add_row("", "neocloud reserve --model GB200 --gpus 72 --hours 8 --shape whole-nvl72 --quote")
    grid.add_row("", "neocloud instances create --model H100 --nodes 1 --spot")
    grid.add_row("", "neocloud instances list --json")
    grid.add_row("", f'curl -H "Authorization: Bearer $NEOCLOUD_TOKEN" {url}/v1/reservations')
    return Panel(grid, title="[bold]neocloud demo[/]", subtitle="Ctrl-C stops it", border_style="green")


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
    """A fresh SQLite control plane with a demo fleet, two tenants, reservations and instances, served with
    the reconciler on http://HOST:PORT (docs at /docs). Ctrl-C stops it."""
    import shutil
    import tempfile
    from datetime import UTC, datetime, timedelta

    from neocloud.api.app import create_app
    from neocloud.bootstrap import Settings, build_services, upgrade_database
    from neocloud.cli.demo import seed
    from neocloud.cli.output import console

    temporary = data_dir is None
    where = Path(tempfile.mkdtemp(prefix="neocloud-demo-")) if data_dir is None else data_dir.expanduser()
    where.mkdir(parents=True, exist_ok=True)
    for name in DB_FILES:
        (where / name).unlink(missing_ok=True)
    try:
        settings = Settings(data_dir=where, provision_delay=timedelta(seconds=provision_delay))
        upgrade_database(settings)
        services = build_services(settings)
        world = seed(services.control, datetime.now(UTC))
        url = f"http://{host}:{port}"
        console.print(_demo_panel(url, where, world))
        run_server(create_app(services), services.control, host, port)
        console.print("[green]demo stopped[/]")
    finally:
        if temporary:
            shutil.rmtree(where, ignore_errors=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)

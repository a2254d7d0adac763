"""Server-side commands: `neocloud serve` (the API plus the reconciler) and `neocloud demo`."""

from __future__ import annotations

import logging
import threading
from typing import Any

import typer

from neocloud.cli.output import fail

log = logging.getLogger("neocloud.server")

RECONCILE_EVERY_S = 1.0


class ReconcilerLoop:
    """Calls `control.reconcile()` every `interval` seconds on a daemon thread until `stop()`.

    A failing pass is logged and retried on the next tick: the reconciler is idempotent, so a pass cut
    short (or a server killed mid-pass) is finished by the next one, in this process or another.
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
        while not self._stop.is_set():
            try:
                self._control.reconcile()
                self.passes += 1
            except Exception:
                self.failures += 1
                log.exception("reconcile pass failed; retrying in %.1fs", self._interval)
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
    from neocloud.domain.errors import DomainError

    settings = Settings.from_env(data_dir, database_url)
    try:
        services = build_services(settings)
    except DomainError as exc:
        raise fail(exc.message) from None
    run_server(
        create_app(services),
        services.control,
        host,
        port,
        reconcile_every=reconcile_every,
        log_level=log_level,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)

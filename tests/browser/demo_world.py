"""The demo's world, built as `neocloud demo` builds it (SQLite in a temporary directory, a finished and
invoiced past month on a manual clock, then live work on the system clock), and a real uvicorn server
over it on 127.0.0.1, for the console's tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from neocloud.api.app import create_app
from neocloud.bootstrap import Services, Settings, build_services, manual_clock, upgrade_database
from neocloud.cli.demo import DemoWorld, finished_month, seed_accounts, seed_past_month, seed_work


@dataclass
class Demo:
    services: Services
    world: DemoWorld
    app: Any

    @property
    def acme(self) -> str:
        return self.world.tenant_tokens["acme"]

    @property
    def globex(self) -> str:
        return self.world.tenant_tokens["globex"]

    @property
    def operator(self) -> str:
        return self.world.operator_token


def build_demo(where: Path, database_url: str | None = None, **app_options: Any) -> Demo:
    """The demo world in `where` (or on `database_url`), with the fake provisioner ready at once."""
    settings = Settings(data_dir=where, database_url=database_url, provision_delay=timedelta(0))
    upgrade_database(settings)
    month = finished_month(datetime.now(UTC))
    clock = manual_clock(month.start)
    past = build_services(settings, clock=clock)
    try:
        assert past.billing is not None
        world = seed_accounts(past.control)
        seed_past_month(past.control, past.billing, clock, world, month)
    finally:
        past.close()
    services = build_services(settings)
    seed_work(services.control, datetime.now(UTC), world)
    services.control.reconcile()
    services.control.reconcile()
    return Demo(services, world, create_app(services, **app_options))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` with uvicorn on a free port of `host` in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="console-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)

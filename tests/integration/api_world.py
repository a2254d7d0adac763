"""A small control plane behind the HTTP API, for the edge tests: one fleet, an operator and two tenants.

`ApiWorld.build()` wires bootstrap's services over the in-memory store with a manual clock (time moves
only when a test says so) and billing that settles at once, imports a fleet built with tests/builders.py
and mints tokens; `client(token)` returns a NeocloudClient that talks to the ASGI app in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from neocloud.api.app import create_app
from neocloud.billing.app.service import BillingService
from neocloud.billing.app.settings import BillingSettings
from neocloud.bootstrap import MEMORY, Services, Settings, build_services
from neocloud.client import NeocloudClient
from neocloud.control.app.control import ControlPlane
from neocloud.control.domain.tenancy import Role
from neocloud.fleet.fleet import Fleet
from neocloud.infra.clock import ManualClock
from tests.builders import fleet, node

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def small_fleet() -> Fleet:
    """Two H100 nodes (16 GPUs) and one GB200 tray (4 GPUs)."""
    return fleet(node("h1"), node("h2"), node("g1", model="GB200", gpus=4))


@dataclass
class ApiWorld:
    control: ControlPlane
    billing: BillingService
    clock: ManualClock
    app: FastAPI
    operator: str
    tokens: dict[str, str] = field(default_factory=dict)
    tenant_ids: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def build(the_fleet: Fleet | None = None, tenants: tuple[str, ...] = ("alice", "bob")) -> ApiWorld:
        clock = ManualClock(T0)
        services = memory_services(clock)
        control = services.control
        assert services.billing is not None
        control.fleet.import_fleet(the_fleet or small_fleet())
        _, operator = control.tenancy.create_token(None, Role.OPERATOR)
        world = ApiWorld(control, services.billing, clock, create_app(services), operator)
        for name in tenants:
            world.tenant_ids[name] = control.tenancy.create_tenant(name).id
            world.tokens[name] = control.tenancy.create_token(name, Role.TENANT_ADMIN)[1]
        return world

    def http(self, token: str | None = None) -> TestClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return TestClient(self.app, headers=headers, raise_server_exceptions=False)

    def client(self, token: str | None) -> NeocloudClient:
        return NeocloudClient("http://testserver", token, http=self.http())

    def token_for(self, tenant: str, role: Role) -> str:
        return self.control.tenancy.create_token(tenant, role)[1]


def memory_services(clock: ManualClock) -> Services:
    """bootstrap's services over memory at `clock`; billing meters the control plane's events with no
    settle delay (tests move time)."""
    settings = Settings(database_url=MEMORY, billing=BillingSettings(settle_delay_seconds=0))
    return build_services(settings, clock=clock)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving `app` on a free local port from a background thread (for CLI and client tests)."""

    def __init__(self, app: FastAPI) -> None:
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server (NEOCLOUD_TEST_POSTGRES_URL), dropped after."""
    import uuid

    from sqlalchemy import create_engine, make_url, text

    from tests.control_builders import postgres_url

    base = postgres_url()
    name = f"edge_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def migrated_services(database_url: str, data_dir: Path | None = None) -> Any:
    """bootstrap's Services over a freshly migrated database (the tests' seeding side)."""
    from neocloud.bootstrap import Settings, build_services, upgrade_database

    settings = Settings(data_dir=data_dir or Path("."), database_url=database_url)
    upgrade_database(settings)
    return build_services(settings)

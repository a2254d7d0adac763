"""One-line fixtures for the control plane: a ControlPlane over any store, with a manual clock, a
fake provisioner, and tenants with tokens."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from neocloud.control.adapters.ids import SecretIds
from neocloud.control.adapters.list_prices import ListPriceBook
from neocloud.control.adapters.memory import MemoryStore
from neocloud.control.adapters.provisioners import FakeProvisioner
from neocloud.control.adapters.sql.store import SqlStore
from neocloud.control.app.control import ControlPlane, Deps
from neocloud.control.domain.tenancy import Principal
from neocloud.fleet.fleet import Fleet
from neocloud.infra.clock import ManualClock
from neocloud.infra.engine import make_engine
from neocloud.infra.schema import upgrade
from neocloud.placement.engine import placer
from tests.builders import fleet, node

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POSTGRES_ENV = "NEOCLOUD_TEST_POSTGRES_URL"


def h100_fleet(nodes: int = 4, per_su: int = 2) -> Fleet:
    """`nodes` 8-GPU H100 nodes, `per_su` to a scalable unit."""
    return fleet(*[node(f"h{i:02d}", su=f"su-{i // per_su}") for i in range(nodes)])


@dataclass
class World:
    control: ControlPlane
    clock: ManualClock
    provisioner: FakeProvisioner

    def tenant(self, name: str, role: str = "tenant-admin") -> Principal:
        """A new tenant and a principal for it with `role`."""
        self.control.tenancy.create_tenant(name)
        _, secret = self.control.tenancy.create_token(name, role)
        return self.control.tenancy.authenticate(secret)

    def token(self, tenant: str | None, role: str) -> Principal:
        _, secret = self.control.tenancy.create_token(tenant, role)
        return self.control.tenancy.authenticate(secret)

    def operator(self) -> Principal:
        return self.token(None, "operator")


def world(store: object, fleet_: Fleet | None = None, *, delay: timedelta = timedelta(0),
          notice: timedelta = timedelta(minutes=2)) -> World:
    clock = ManualClock(T0)
    provisioner = FakeProvisioner(clock, delay)
    control = ControlPlane(Deps(store, clock, provisioner, ListPriceBook(), placer("default"), SecretIds(), spot_notice=notice))  # type: ignore[arg-type]
    control.fleet.import_fleet(fleet_ or h100_fleet())
    return World(control, clock, provisioner)


def memory_world(fleet_: Fleet | None = None, **kw: object) -> World:
    return world(MemoryStore(), fleet_, **kw)  # type: ignore[arg-type]


def postgres_url() -> str:
    """The test PostgreSQL's URL. `make test` starts one and sets NEOCLOUD_REQUIRE_POSTGRES=1, so there a
    missing server fails the run instead of silently skipping the PostgreSQL half of the suite."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("NEOCLOUD_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{POSTGRES_ENV} is not set but NEOCLOUD_REQUIRE_POSTGRES=1")
        pytest.skip(f"{POSTGRES_ENV} is not set (make test starts PostgreSQL and sets it)")
    return url


def migrated_engine(kind: str, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated database: a new SQLite file, or a new schema in the test PostgreSQL."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'neocloud.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    url = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema},public"}, pool_size=20, max_overflow=60)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


SQL_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=SQL_KINDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_engine(request.param, tmp_path)


@pytest.fixture(params=["memory", *SQL_KINDS])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """Every store the control plane runs on: the same contract suite runs over each."""
    if request.param == "memory":
        yield MemoryStore()
        return
    for engine in migrated_engine(request.param, tmp_path):
        yield SqlStore(engine)

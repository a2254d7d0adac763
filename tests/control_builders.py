"""One-line fixtures for the control plane: a ControlPlane over any database, wired by bootstrap as
production is, with a manual clock, a fake provisioner, and tenants with tokens."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from neocloud.billing.app.settings import BillingSettings
from neocloud.billing.domain.pricing import PriceKey
from neocloud.bootstrap import DEFAULT_QUOTA_GPUS, MEMORY, Services, Settings, build_services
from neocloud.control.adapters.provisioners import FakeProvisioner
from neocloud.control.app.control import ControlPlane
from neocloud.control.domain.tenancy import Principal
from neocloud.fleet.fleet import Fleet
from neocloud.infra.clock import ManualClock
from neocloud.infra.engine import make_engine
from neocloud.infra.schema import upgrade
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
    services: Services

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


# Services built over each test database, closed (their engines disposed) before it is dropped.
_OPEN: dict[str, list[Services]] = {}


def database_url(engine: Engine) -> str:
    """The URL that reaches `engine`'s database (and, on PostgreSQL, its schema)."""
    return engine.url.render_as_string(hide_password=False)


def world(
    database: str | Engine = MEMORY,
    fleet_: Fleet | None = None,
    *,
    delay: timedelta = timedelta(0),
    notice: timedelta = timedelta(minutes=2),
    default_quota_gpus: dict[str, int] | int | None = DEFAULT_QUOTA_GPUS,
) -> World:
    """bootstrap's services over `database` ("memory", a URL, or a test engine's database) at T0, with
    a fake provisioner taking `delay`, spot notice `notice`, billing settling at once, new tenants'
    default quota `default_quota_gpus` (bootstrap's default), and a fleet."""
    url = database if isinstance(database, str) else database_url(database)
    clock = ManualClock(T0)
    provisioner = FakeProvisioner(clock, delay)
    settings = Settings(
        database_url=url,
        spot_notice=notice,
        pool_size=20,
        max_overflow=60,
        billing=BillingSettings(settle_delay_seconds=0),
        default_quota_gpus=default_quota_gpus,
    )
    services = build_services(settings, clock=clock, provisioner=provisioner)
    if services.engine is not None:
        _OPEN.setdefault(url, []).append(services)
    services.control.fleet.import_fleet(fleet_ or h100_fleet())
    return World(services.control, clock, provisioner, services)


def memory_world(fleet_: Fleet | None = None, **kw: object) -> World:
    return world(MEMORY, fleet_, **kw)  # type: ignore[arg-type]


def catalog_price(w: World, model: str, product: str, term_months: int | None = None) -> Decimal:
    """The billing catalog's price per GPU-hour at T0: what quotes, reservations and invoices charge
    (the control plane quotes reserved at the 1-month term)."""
    assert w.services.billing is not None
    return w.services.billing.catalog().price_at(PriceKey.of(model, product, term_months), T0)


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
    """A fresh, migrated database: a new SQLite file, or a new schema in the test PostgreSQL (which the
    URL selects, so that `database_url(engine)` reaches it too)."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'neocloud.db'}")
        upgrade(engine)
        yield engine
        _close_services(engine)
        engine.dispose()
        return
    url = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    in_schema = make_url(url).update_query_dict({"options": f"-csearch_path={schema},public"})
    engine = make_engine(in_schema.render_as_string(hide_password=False), pool_size=20, max_overflow=60)
    try:
        upgrade(engine)
        yield engine
    finally:
        _close_services(engine)
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _close_services(engine: Engine) -> None:
    for services in _OPEN.pop(database_url(engine), []):
        services.close()


SQL_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=SQL_KINDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_engine(request.param, tmp_path)


@pytest.fixture(params=[MEMORY, *SQL_KINDS])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database the control plane runs on, as a URL: the same contract suite runs over each."""
    if request.param == MEMORY:
        yield MEMORY
        return
    for engine in migrated_engine(request.param, tmp_path):
        yield database_url(engine)

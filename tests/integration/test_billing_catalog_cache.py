"""The price catalog is kept in memory by each server process and checked by a tiny version read, so a
price set through one process is what the next quote in another one uses (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from neocloud.billing.app import service as billing_service
from neocloud.billing.app.service import BillingService
from neocloud.billing.app.settings import BillingSettings
from neocloud.bootstrap import MEMORY, Services, Settings, build_services
from neocloud.control.app.views import ReservationRequest
from neocloud.infra.clock import ManualClock
from tests.control_builders import T0, database_url, engine, h100_fleet  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(120)
ASKED = ReservationRequest("H100", gpus=8, hours=1)


def services_on(url: str) -> Services:
    settings = Settings(database_url=url, billing=BillingSettings(settle_delay_seconds=0))
    return build_services(settings, clock=ManualClock(T0))


@pytest.fixture
def two_servers(engine: Engine) -> Iterator[tuple[Services, Services]]:  # noqa: F811
    """Two servers' services (each its own engine, pool and catalog cache) over one database."""
    first, second = services_on(database_url(engine)), services_on(database_url(engine))
    try:
        first.control.fleet.import_fleet(h100_fleet())
        first.control.tenancy.create_tenant("acme")
        yield first, second
    finally:
        first.close()
        second.close()


def billing(services: Services) -> BillingService:
    assert services.billing is not None
    return services.billing


def count_loads(monkeypatch: pytest.MonkeyPatch, services: Services) -> list[int]:
    store: Any = billing(services).store
    loads = [0]
    real = store.load_catalog

    def load(currency: str) -> Any:
        loads[0] += 1
        return real(currency)

    monkeypatch.setattr(store, "load_catalog", load)
    return loads


def test_a_price_set_on_one_server_is_quoted_by_the_next_quote_on_another(
    two_servers: tuple[Services, Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_servers
    _, secret = first.control.tenancy.create_token("acme", "tenant-admin")
    acme = first.control.tenancy.authenticate(secret)
    listed = first.control.reservations.quote(acme, ASKED).unit_price
    loads = count_loads(monkeypatch, first)
    assert first.control.reservations.quote(acme, ASKED).unit_price == listed
    assert loads == [0]  # unchanged: served from memory

    billing(second).set_price(
        model="H100", product="reserved", price="2.00", currency="USD", term_months=1, tenant="acme"
    )
    assert first.control.reservations.quote(acme, ASKED).unit_price == "2.00"
    assert loads == [1]
    for server in (first, second):
        clock: Any = server.control.deps.clock
        clock.advance(timedelta(minutes=1))
    billing(second).set_price(
        model="H100", product="reserved", price="1.75", currency="USD", term_months=1, tenant="acme"
    )
    assert first.control.reservations.quote(acme, ASKED).unit_price == "1.75"
    assert first.control.reservations.quote(acme, ASKED).unit_price == "1.75"
    assert loads == [2]


def test_without_a_stored_catalog_the_default_one_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built = [0]
    real = billing_service.default_catalog

    def default_catalog(*args: Any, **kw: Any) -> Any:
        built[0] += 1
        return real(*args, **kw)

    monkeypatch.setattr(billing_service, "default_catalog", default_catalog)
    services = services_on(MEMORY)
    services.control.fleet.import_fleet(h100_fleet())
    services.control.tenancy.create_tenant("acme")
    _, secret = services.control.tenancy.create_token("acme", "tenant-admin")
    acme = services.control.tenancy.authenticate(secret)
    for _ in range(5):
        services.control.reservations.quote(acme, ASKED)
    assert built == [1]

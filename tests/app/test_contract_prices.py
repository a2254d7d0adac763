"""Contract prices: a tenant's price set by name (or id) is what its quotes, reservations and instances
show and what its invoice charges; an unknown tenant is refused; a quote the quota would refuse says so."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from neocloud.billing.app.service import BillingService
from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.kernel.errors import NotFound, QuotaExceeded
from neocloud.kernel.periods import Period
from tests.control_builders import T0, World, catalog_price, memory_world

MARCH = Period.month(2026, 3)


def billing_of(w: World) -> BillingService:
    assert w.services.billing is not None
    return w.services.billing


def contract(w: World, tenant: str, product: str, price: str, term: int | None = None) -> None:
    billing_of(w).set_price(
        model="H100", product=product, price=price, currency="USD", term_months=term, tenant=tenant
    )


def test_a_contract_price_set_by_name_is_quoted_reserved_and_invoiced() -> None:
    w = memory_world()
    acme, other = w.tenant("acme"), w.tenant("other")
    contract(w, "acme", "reserved", "2.00", term=1)
    asked = ReservationRequest("H100", gpus=8, hours=2)

    quote = w.control.reservations.quote(acme, asked)
    assert (quote.unit_price, quote.price_total) == ("2.00", "32.00")
    listed = catalog_price(w, "H100", "reserved", 1)
    assert Decimal(w.control.reservations.quote(other, asked).unit_price) == listed

    reservation = w.control.reservations.reserve(acme, asked)
    assert reservation.price_total == "32.00"
    w.control.reconcile()
    w.clock.set(MARCH.end + timedelta(days=1))
    (invoice,) = [i for i in billing_of(w).finalize(MARCH) if i.tenant_id == acme.tenant_id]
    assert [(line.product, str(line.unit_price), str(line.amount)) for line in invoice.lines] == [
        ("reserved", "2.00", "32.00")
    ]


def test_an_instance_shows_and_is_billed_its_tenants_contract_price() -> None:
    w = memory_world()
    acme = w.tenant("acme")
    contract(w, acme.tenant_id or "", "on-demand", "3.00")  # by id works too
    instance = w.control.instances.create_instance(acme, InstanceRequest("H100", nodes=1))
    assert instance.price_per_hour == "24.00"  # 8 GPUs at 3.00
    w.control.reconcile()
    w.clock.advance(timedelta(hours=2))
    w.control.instances.stop_instance(acme, instance.id)
    w.control.reconcile()
    w.clock.set(MARCH.end + timedelta(days=1))
    (invoice,) = billing_of(w).finalize(MARCH)
    assert [(str(line.unit_price), str(line.amount)) for line in invoice.lines] == [("3.00", "48.00")]


def test_a_contract_price_for_an_unknown_tenant_is_refused_naming_it() -> None:
    w = memory_world()
    with pytest.raises(NotFound, match="'nobody'") as err:
        contract(w, "nobody", "on-demand", "1.00")
    assert err.value.details == {"field": "tenant", "value": "nobody"}
    assert all(p.key.tenant is None for p in billing_of(w).prices())


def test_a_contract_price_is_stored_under_the_tenant_id() -> None:
    w = memory_world()
    acme = w.tenant("acme")
    contract(w, "acme", "spot", "1.00")
    assert [p.key.tenant for p in billing_of(w).prices() if p.key.tenant] == [acme.tenant_id]
    assert [p.key.tenant for p in billing_of(w).prices("acme")].count(acme.tenant_id) == 1


def test_a_quote_over_the_quota_is_infeasible_with_the_quotas_reason() -> None:
    w = memory_world()
    acme = w.tenant("acme")
    w.control.tenancy.set_quota(w.operator(), acme.tenant_id or "", "H100", 8)
    asked = ReservationRequest("H100", gpus=8, hours=2, start=T0 + timedelta(hours=1))
    w.control.reservations.reserve(acme, asked)

    quote = w.control.reservations.quote(acme, asked)
    assert (quote.feasible, quote.start, quote.reasons) == (False, None, {"quota": 0})
    assert "tenant quota for H100 is 8 GPUs: 8 in use, 8 asked" in quote.message
    with pytest.raises(QuotaExceeded):
        w.control.reservations.reserve(acme, asked)
    later = ReservationRequest("H100", gpus=8, hours=2, start=T0 + timedelta(hours=3))
    assert w.control.reservations.quote(acme, later).feasible


def test_a_project_quota_makes_a_quote_for_that_project_infeasible() -> None:
    w = memory_world()
    acme = w.tenant("acme")
    project = w.control.tenancy.create_project(acme, acme.tenant_id or "", "research")
    w.control.tenancy.set_quota(acme, acme.tenant_id or "", "H100", 0, project.id)
    refused = w.control.reservations.quote(acme, ReservationRequest("H100", 8, 1, project="research"))
    assert (refused.feasible, refused.reasons) == (False, {"quota": 0})
    assert w.control.reservations.quote(acme, ReservationRequest("H100", 8, 1)).feasible

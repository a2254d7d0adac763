"""The BillingStore contract: the same behaviours over memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from neocloud.billing.adapters.memory import MemoryBillingStore
from neocloud.billing.adapters.sql.store import SqlBillingStore
from neocloud.billing.domain.invoices import Credit, InvoiceState, draft_invoice
from neocloud.billing.domain.metering import meter
from neocloud.billing.domain.pricing import RESERVED_TERMS_MONTHS, PriceKey, default_catalog
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import InvoiceId, TenantId
from neocloud.kernel.money import Money
from neocloud.kernel.periods import Period, to_epoch
from tests.builders import at, run
from tests.control_builders import SQL_KINDS, migrated_engine

pytestmark = pytest.mark.timeout(120)
OCTOBER = Period.month(2026, 10)


@pytest.fixture(params=["memory", *SQL_KINDS])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    if request.param == "memory":
        yield MemoryBillingStore()
        return
    for engine in migrated_engine(request.param, tmp_path):
        yield SqlBillingStore(engine)


def entries(*events_lists):
    return meter([e for es in events_lists for e in es], {}, at(days=40), terms=RESERVED_TERMS_MONTHS).entries


def test_usage_round_trips_and_appends_are_idempotent(store):
    rows = entries(
        run("a", at(hours=20), at(days=2, hours=3)), run("b", at(), at(hours=1), gpus=1, milli=300)
    )
    assert store.append_usage(rows) == len(rows)
    assert store.append_usage(rows) == 0
    assert sorted(store.usage(), key=lambda e: e.id) == sorted(rows, key=lambda e: e.id)


def test_usage_filters_by_tenant_and_period(store):
    store.append_usage(
        entries(
            run("a", at(days=30, hours=20), at(days=31, hours=2)),
            run("b", at(), at(hours=1), tenant="globex"),
        )
    )
    assert {e.allocation_id for e in store.usage(tenant=TenantId("acme"), period=OCTOBER)} == {"a"}
    assert [e.end for e in store.usage(period=Period.month(2026, 11))] == [at(days=31, hours=2)]


def test_covered_merges_contiguous_entries_per_allocation(store):
    store.append_usage(entries(run("a", at(hours=3), at(days=2)), run("b", at(), at(hours=1))))
    got = store.covered(["a", "c"])
    assert list(got) == ["a"] and sorted(got["a"]) in (
        [(to_epoch(at(hours=3)), to_epoch(at(days=2)))],
        [(to_epoch(at(hours=3)), to_epoch(at(days=1))), (to_epoch(at(days=1)), to_epoch(at(days=2)))],
    )


def test_covered_keeps_a_gap_between_entries(store):
    rows = entries(run("a", at(), at(days=3)))
    store.append_usage([rows[0], rows[2]])
    assert sorted(store.covered(["a"])["a"]) == [
        (to_epoch(at()), to_epoch(at(days=1))),
        (to_epoch(at(days=2)), to_epoch(at(days=3))),
    ]


def test_catalog_round_trips_exactly(store):
    catalog = default_catalog().with_price(PriceKey.of("H100", "spot", tenant="acme"), "1.2345", "USD", at())
    store.save_catalog(catalog)
    loaded = store.load_catalog("USD")
    assert (
        loaded is not None and set(loaded.periods) == set(catalog.periods) and loaded.tax_rate == Decimal(0)
    )
    assert store.load_catalog("EUR") is None


def test_invoice_round_trips_and_finalized_is_immutable(store):
    rows = entries(run("a", at(), at(hours=3)))
    credit = Credit("c1", TenantId("acme"), Money.of("1.00", "USD"), "incident", at(days=1))
    invoice = draft_invoice(
        InvoiceId("INV-1"), TenantId("acme"), OCTOBER, rows, default_catalog(), [credit], at=at(days=31)
    )
    final = invoice.to(InvoiceState.FINALIZED, at=at(days=31))
    store.save_invoice(final)
    assert store.get_invoice(InvoiceId("INV-1")) == final
    with pytest.raises(Conflict):
        store.save_invoice(invoice)  # back to draft with the same id
    store.save_invoice(final.to(InvoiceState.PAID, at=at(days=33)))
    assert store.invoices(tenant=TenantId("acme"))[0].state is InvoiceState.PAID


def test_incidents_and_credits_round_trip(store):
    result = meter(
        run("a", at(), at(hours=2), end_state="failed"), {}, at(days=1), terms=RESERVED_TERMS_MONTHS
    )
    assert store.append_incidents(result.incidents) == 1 and store.append_incidents(result.incidents) == 0
    assert store.incidents() == result.incidents
    credit = Credit(
        "c1", TenantId("acme"), Money.of("2.50", "USD"), "GPU failure", at(days=1), result.incidents[0].id
    )
    store.add_credit(credit)
    assert store.credits(tenant=TenantId("acme")) == [credit]


def test_atomic_rolls_back_every_write(store):
    rows = entries(run("a", at(), at(days=2)))
    with pytest.raises(RuntimeError), store.atomic() as unit:
        unit.append_usage(rows)
        unit.save_catalog(default_catalog())
        raise RuntimeError("crash")
    assert store.usage() == [] and store.load_catalog("USD") is None

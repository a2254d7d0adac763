from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal

import pytest

from neocloud.billing.domain.invoices import InvoiceState
from neocloud.billing.domain.metering import meter
from neocloud.billing.domain.pricing import RESERVED_TERMS_MONTHS, PriceKey
from neocloud.kernel.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from neocloud.kernel.ids import TenantId
from neocloud.kernel.periods import Period
from tests.builders import at, billing, reservation, run

OCTOBER = Period.month(2026, 10)
ACME = TenantId("acme")


def test_default_prices_come_from_the_list():
    rig = billing()
    assert any(p.key.model == "GB200" and p.per_gpu_hour == Decimal("10.50") for p in rig.service.prices())


def test_set_price_applies_from_now_on():
    rig = billing(at(days=5))
    rig.service.set_price(model="H100", product="on-demand", price="5.00", currency="USD")
    catalog = rig.service.catalog()
    key = PriceKey.of("H100", "on-demand")
    assert (catalog.price_at(key, at(days=4)), catalog.price_at(key, at(days=5))) == (
        Decimal("6.16"),
        Decimal("5.00"),
    )


def test_set_price_in_the_past_is_refused_naming_from():
    rig = billing(at(days=5))
    with pytest.raises(InvalidInput) as err:
        rig.service.set_price(
            model="H100", product="on-demand", price="5.00", currency="USD", effective_from=at(days=4)
        )
    assert err.value.details["field"] == "from"


def test_a_refused_price_leaves_the_stored_catalog_unchanged():
    rig = billing()
    with pytest.raises(InvalidInput):
        rig.service.set_price(model="H100", product="on-demand", price="-1", currency="USD")
    assert rig.store.load_catalog("USD") is None


def test_meter_twice_adds_nothing_the_second_time():
    rig = billing(at(days=3))
    rig.log.extend(run("a", at(), at(days=2)))
    first, second = rig.service.meter(), rig.service.meter()
    assert (first.entries_added, second.entries_added) == (2, 0)


def test_usage_groups_the_ledger():
    rig = billing(at(days=3))
    rig.log.extend([*run("a", at(), at(hours=1)), *run("b", at(), at(hours=1), model="B200", gpus=2)])
    rig.service.meter()
    assert rig.service.usage(period=OCTOBER, by="model") == {"B200": 2 * 3_600_000, "H100": 8 * 3_600_000}


def test_preview_includes_usage_not_settled_yet():
    rig = billing(at(hours=5))
    rig.log.extend(run("a", at()))
    invoice = rig.service.preview(ACME)
    assert invoice.lines[0].gpu_hours == 8 * 5 and invoice.state is InvoiceState.DRAFT
    assert rig.store.invoices() == []


def test_finalize_bills_each_tenant_once():
    rig = billing(at(days=31, hours=1))
    rig.log.extend([*run("a", at(), at(hours=1)), *run("b", at(), at(hours=2), tenant="globex")])
    first = rig.service.finalize(OCTOBER)
    again = rig.service.finalize(OCTOBER)
    assert [i.tenant_id for i in first] == ["acme", "globex"]
    assert again == first and len(rig.store.invoices()) == 2


def test_finalize_before_the_period_is_over_is_a_conflict():
    rig = billing(at(days=30, hours=23))
    with pytest.raises(Conflict, match="not over"):
        rig.service.finalize(OCTOBER)


def test_finalized_invoice_keeps_its_amount_when_prices_change_later():
    rig = billing(at(days=31, hours=1))
    rig.log.extend(run("a", at(), at(hours=1)))
    (invoice,) = rig.service.finalize(OCTOBER)
    rig.service.set_price(model="H100", product="on-demand", price="1.00", currency="USD")
    assert rig.service.finalize(OCTOBER)[0].total == invoice.total


def test_incident_credit_lands_on_the_next_invoice_once():
    rig = billing(at(days=1))
    rig.log.extend(run("a", at(), at(hours=2), end_state="failed"))
    rig.service.meter()
    (incident,) = rig.service.incidents()
    rig.service.issue_credit(ACME, "10.00", "GPU fell off the bus", incident.id)
    with pytest.raises(Conflict, match="already credited"):
        rig.service.issue_credit(ACME, "10.00", "again", incident.id)
    rig.clock.set(at(days=31, hours=1))
    (invoice,) = rig.service.finalize(OCTOBER)
    assert str(invoice.credit_amount) == "10.00"
    assert rig.service.preview(ACME, Period.month(2026, 11)).credits == ()


def test_credit_for_an_unknown_incident_is_not_found():
    with pytest.raises(NotFound):
        billing().service.issue_credit(ACME, "1.00", "x", "nope")


def test_pay_then_void_is_an_invalid_transition():
    rig = billing(at(days=31, hours=1))
    rig.log.extend(run("a", at(), at(hours=1)))
    (invoice,) = rig.service.finalize(OCTOBER)
    rig.service.mark_paid(invoice.id)
    with pytest.raises(InvalidTransition):
        rig.service.void(invoice.id)


def test_credit_notes_never_take_back_more_than_billed():
    rig = billing(at(days=31, hours=1))
    rig.log.extend(run("a", at(), at(hours=1), gpus=1))  # 6.16
    (invoice,) = rig.service.finalize(OCTOBER)
    rig.service.credit_note(invoice.id, reason="goodwill", amount="6.00")
    with pytest.raises(Conflict, match="exceed"):
        rig.service.credit_note(invoice.id, reason="again", amount="0.17")


def test_unknown_invoice_is_not_found():
    with pytest.raises(NotFound):
        billing().service.invoice("INV-nope")


def test_reconcile_after_finalize_finds_no_difference():
    rig = billing(at(days=31, hours=1))
    rig.log.extend([*run("a", at(days=3), at(days=40)), *reservation("r", at(days=10), at(days=20))])
    rig.service.finalize(OCTOBER)
    assert rig.service.reconcile(OCTOBER).differences == []


def test_eur_billing_adds_vat():
    rig = billing(at(days=31, hours=1), currency="EUR", usd_to_currency="0.5")
    rig.log.extend(run("a", at(), at(hours=1), gpus=1))  # 3.08 EUR
    (invoice,) = rig.service.finalize(OCTOBER)
    assert (invoice.currency, str(invoice.tax), str(invoice.total)) == ("EUR", "0.62", "3.70")


class FailingStore:
    """Wraps a store, and the units of work it opens, and fails on the n-th save_invoice through any of
    them, after part of the work was written."""

    def __init__(self, inner, fail_on: int, calls: list[int] | None = None) -> None:
        self.inner, self.fail_on, self.calls = inner, fail_on, calls if calls is not None else [0]

    def __getattr__(self, name):
        return getattr(self.inner, name)

    @contextmanager
    def atomic(self):
        with self.inner.atomic() as unit:
            yield FailingStore(unit, self.fail_on, self.calls)

    def save_invoice(self, invoice) -> None:
        self.calls[0] += 1
        if self.calls[0] == self.fail_on:
            raise RuntimeError("disk full")
        self.inner.save_invoice(invoice)


def test_finalize_after_a_crash_completes_without_billing_twice():
    rig = billing(at(days=31, hours=1))
    rig.service.settings = replace(rig.service.settings, finalize_batch=1)
    rig.log.extend([*run("a", at(), at(hours=1)), *run("b", at(), at(hours=2), tenant="globex")])
    rig.service.store = FailingStore(rig.store, fail_on=2)
    with pytest.raises(RuntimeError):
        rig.service.finalize(OCTOBER)
    assert len(rig.store.invoices()) == 1
    rig.service.store = rig.store
    rig.service.finalize(OCTOBER)
    assert sorted(i.tenant_id for i in rig.store.invoices()) == ["acme", "globex"]


def test_atomic_block_rolls_back_every_write():
    rig = billing(at(days=3))
    rig.log.extend(run("a", at(), at(days=2)))
    entries = meter(rig.log.events, {}, at(days=3), terms=RESERVED_TERMS_MONTHS).entries
    with pytest.raises(RuntimeError), rig.store.atomic() as unit:
        unit.append_usage(entries)
        raise RuntimeError("crash")
    assert rig.store.usage() == []


def test_an_event_committed_late_within_the_settle_delay_is_not_overbilled():
    rig = billing(at(days=1, minutes=2))
    rig.log.extend(run("a", at(hours=20)))
    rig.service.meter()  # settles up to midnight only once midnight is 5 minutes behind
    rig.log.extend([run("a", at(hours=20), at(hours=23, minutes=59))[-1]])
    rig.clock.set(at(days=2))
    rig.service.meter()
    assert sum(e.seconds for e in rig.store.usage()) == 3 * 3600 + 59 * 60


def test_a_crash_inside_a_finalize_batch_keeps_none_of_the_batch():
    rig = billing(at(days=31, hours=1))
    rig.log.extend([*run("a", at(), at(hours=1)), *run("b", at(), at(hours=2), tenant="globex")])
    rig.service.store = FailingStore(rig.store, fail_on=2)
    with pytest.raises(RuntimeError):
        rig.service.finalize(OCTOBER)
    assert rig.store.invoices() == []

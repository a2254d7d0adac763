from dataclasses import replace
from decimal import Decimal

import pytest

from neocloud.billing.domain.invoices import InvoiceState, credit_note, draft_invoice
from neocloud.billing.domain.metering import meter
from neocloud.billing.domain.pricing import RESERVED_TERMS_MONTHS, PriceCatalog, PriceKey
from neocloud.billing.domain.reconcile import gpu_seconds_text, reconcile, revenue, usage_by
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.ids import InvoiceId, TenantId
from neocloud.kernel.periods import Period
from tests.builders import at, run

OCTOBER = Period.month(2026, 10)
AFTER = at(days=40)
CAT = (
    PriceCatalog("USD", Decimal(0))
    .with_price(PriceKey.of("H100", "on-demand"), "2.00", "USD", at(days=-1))
    .with_price(PriceKey.of("B200", "on-demand"), "3.00", "USD", at(days=-1))
)


def world():
    events = [
        *run("a", at(), at(hours=10)),
        *run("b", at(days=2), at(days=3), tenant="globex", model="B200", gpus=1),
    ]
    entries = meter(events, {}, AFTER, terms=RESERVED_TERMS_MONTHS).entries
    invoices = [
        draft_invoice(InvoiceId(f"INV-{t}"), TenantId(t), OCTOBER, entries, CAT, [], at=AFTER).to(
            InvoiceState.FINALIZED, at=AFTER
        )
        for t in ("acme", "globex")
    ]
    return events, entries, invoices


def check(events, entries, invoices):
    return reconcile(
        events, entries, invoices, OCTOBER, until=AFTER, terms=RESERVED_TERMS_MONTHS, grid_seconds=86_400
    )


def test_consistent_records_reconcile_with_no_difference():
    report = check(*world()).to_dict()
    assert report["differences"] == []
    assert (
        report["allocations_seconds"]
        == report["ledger_seconds"]
        == report["invoiced_seconds"]
        == str(8 * 36000 + 86400)
    )


def test_a_missing_ledger_entry_is_reported_for_its_allocation():
    events, entries, invoices = world()
    report = check(events, entries[1:], invoices)
    assert {(d["kind"], d.get("allocation_id")) for d in report.differences} >= {
        ("allocation-vs-ledger", "a")
    }


def test_an_overlapping_ledger_entry_is_reported():
    events, entries, invoices = world()
    copy = replace(entries[0], id="dup")
    kinds = {d["kind"] for d in check(events, [*entries, copy], invoices).differences}
    assert "ledger-overlap" in kinds


def test_an_uninvoiced_tenant_is_reported_once_the_period_is_over():
    events, entries, invoices = world()
    report = check(events, entries, invoices[:1])
    assert [(d["kind"], d["tenant_id"]) for d in report.differences] == [("uninvoiced", "globex")]


def test_a_voided_invoice_no_longer_counts_as_invoiced():
    events, entries, invoices = world()
    voided = invoices[0].to(InvoiceState.VOID, at=AFTER)
    report = check(events, entries, [voided, invoices[1]])
    assert [d["kind"] for d in report.differences] == ["uninvoiced"]


def test_an_invoice_billing_other_seconds_is_reported():
    events, entries, invoices = world()
    short = draft_invoice(InvoiceId("INV-acme"), TenantId("acme"), OCTOBER, entries[:0], CAT, [], at=AFTER)
    report = check(events, entries, [short.to(InvoiceState.FINALIZED, at=AFTER), invoices[1]])
    assert [(d["kind"], d["expected_seconds"], d["actual_seconds"]) for d in report.differences] == [
        ("ledger-vs-invoices", "288000", "0")
    ]


def test_revenue_by_model_sums_line_amounts():
    _, _, invoices = world()
    assert revenue(invoices, "model") == [
        {"model": "B200", "currency": "USD", "amount": "72.00"},
        {"model": "H100", "currency": "USD", "amount": "160.00"},
    ]


def test_revenue_by_tenant_nets_credit_notes():
    _, _, invoices = world()
    note = credit_note(invoices[0], InvoiceId("CN-1"), at=AFTER, reason="refund")
    rows = revenue([*invoices, note], "tenant")
    assert rows == [
        {"tenant": "acme", "currency": "USD", "amount": "0.00"},
        {"tenant": "globex", "currency": "USD", "amount": "72.00"},
    ]


def test_revenue_ignores_drafts():
    _, entries, _ = world()
    draft = draft_invoice(InvoiceId("d"), TenantId("acme"), OCTOBER, entries, CAT, [], at=AFTER)
    assert revenue([draft], "month") == []


def test_revenue_by_an_unknown_grouping_is_refused():
    with pytest.raises(InvalidInput) as err:
        revenue([], "planet")
    assert err.value.details["field"] == "by"


def test_usage_by_day_splits_at_midnight():
    _, entries, _ = world()
    days = usage_by([e for e in entries if e.allocation_id == "b"], "day", OCTOBER)
    assert days == {"2026-10-03": 86_400_000}


def test_gpu_seconds_text_is_exact():
    assert (gpu_seconds_text(3_600_000), gpu_seconds_text(300)) == ("3600", "0.300")

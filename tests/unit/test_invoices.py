from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neocloud.billing.domain.invoices import (
    TRANSITIONS,
    Credit,
    InvoiceState,
    credit_note,
    draft_invoice,
    invoice_id_for,
    rate,
)
from neocloud.billing.domain.metering import meter
from neocloud.billing.domain.pricing import RESERVED_TERMS_MONTHS, PriceCatalog, PriceKey
from neocloud.kernel.errors import Conflict, InvalidInput, InvalidTransition
from neocloud.kernel.ids import InvoiceId, TenantId
from neocloud.kernel.money import Money
from neocloud.kernel.periods import Period
from tests.builders import T0, at, run

OCTOBER = Period.month(2026, 10)
ACME = TenantId("acme")


def catalog(currency: str = "USD", tax: str = "0") -> PriceCatalog:
    return PriceCatalog(currency, Decimal(tax)).with_price(
        PriceKey.of("H100", "on-demand"), "2.00", currency, at(days=-30)
    )


def ledger(*events_lists):
    events = [e for events in events_lists for e in events]
    return meter(events, {}, at(days=60), terms=RESERVED_TERMS_MONTHS).entries


def draft(entries, cat=None, credits=()):
    return draft_invoice(
        InvoiceId("INV-1"), ACME, OCTOBER, entries, cat or catalog(), credits, at=at(days=31)
    )


def credit(amount: str, n: int = 1) -> Credit:
    return Credit(f"c{n}", ACME, Money.of(amount, "USD"), "node failure", at(days=n))


def test_a_line_is_gpu_hours_times_unit_price():
    invoice = draft(ledger(run("a", at(), at(hours=10))))  # 8 GPUs x 10 h at 2.00
    (line,) = invoice.lines
    assert (line.gpu_hours, line.unit_price, line.amount) == (80, Decimal("2.00"), Money.of("160.00", "USD"))


def test_usage_outside_the_period_is_clipped():
    invoice = draft(ledger(run("a", at(days=30, hours=20), at(days=31, hours=4))))
    assert invoice.lines[0].gpu_hours == 8 * 4


def test_other_tenants_usage_is_not_billed():
    invoice = draft(ledger(run("b", at(), at(hours=1), tenant="globex")))
    assert invoice.lines == ()


def test_a_price_change_mid_usage_makes_two_lines():
    cat = catalog().with_price(PriceKey.of("H100", "on-demand"), "3.00", "USD", at(hours=5))
    invoice = draft(ledger(run("a", at(), at(hours=10), gpus=1)), cat)
    assert [(line.gpu_hours, str(line.amount)) for line in invoice.lines] == [(5, "10.00"), (5, "15.00")]


def test_a_tenant_contract_price_applies_to_that_tenant():
    cat = catalog().with_price(PriceKey.of("H100", "on-demand", tenant="acme"), "1.50", "USD", at(days=-1))
    invoice = draft(ledger(run("a", at(), at(hours=1), gpus=1)), cat)
    assert invoice.lines[0].unit_price == Decimal("1.50")


def test_a_line_amount_is_rounded_once_half_even():
    cat = PriceCatalog("USD", Decimal(0)).with_price(
        PriceKey.of("H100", "on-demand"), "0.0125", "USD", at(days=-1)
    )
    invoice = draft(ledger(run("a", at(), at(hours=1), gpus=1)), cat)
    assert invoice.lines[0].amount == Money(1, "USD")  # 0.0125 -> 0.01 (half to even)


def test_shared_gpu_usage_is_billed_by_the_milli():
    invoice = draft(ledger(run("a", at(), at(hours=10), gpus=1, milli=250)))
    assert invoice.lines[0].gpu_hours == Fraction(5, 2) and str(invoice.lines[0].amount) == "5.00"


def test_french_vat_is_added_to_the_subtotal():
    invoice = draft(ledger(run("a", at(), at(hours=10))), catalog("EUR", "0.20"))
    assert (str(invoice.subtotal), str(invoice.tax), str(invoice.total)) == ("160.00", "32.00", "192.00")


def test_credits_reduce_the_subtotal_before_tax():
    invoice = draft(ledger(run("a", at(), at(hours=10))), credits=[credit("60.00")])
    assert (str(invoice.credit_amount), str(invoice.subtotal)) == ("60.00", "100.00")


def test_a_credit_larger_than_the_usage_waits_for_a_later_invoice():
    invoice = draft(
        ledger(run("a", at(), at(hours=1), gpus=1)), credits=[credit("5.00", 1), credit("1.00", 2)]
    )
    assert [c.id for c in invoice.credits] == ["c2"]


def test_credit_must_be_positive():
    with pytest.raises(InvalidInput, match="positive"):
        credit("0.00")


@pytest.mark.parametrize(
    ("start", "end"),
    [(s, e) for s in InvoiceState for e in InvoiceState if e in TRANSITIONS[s]],
)
def test_allowed_transitions_move_and_stamp(start: InvoiceState, end: InvoiceState):
    invoice = draft(ledger(run("a", at(), at(hours=1))))
    if start is not InvoiceState.DRAFT:
        invoice = invoice.to(InvoiceState.FINALIZED, at=at(days=32))
        if start is not InvoiceState.FINALIZED:
            invoice = invoice.to(start, at=at(days=33))
    moved = invoice.to(end, at=at(days=34))
    assert moved.state is end


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (InvoiceState.DRAFT, InvoiceState.PAID),
        (InvoiceState.PAID, InvoiceState.VOID),
        (InvoiceState.VOID, InvoiceState.FINALIZED),
        (InvoiceState.FINALIZED, InvoiceState.DRAFT),
    ],
)
def test_illegal_transitions_are_refused(start: InvoiceState, end: InvoiceState):
    invoice = draft(ledger(run("a", at(), at(hours=1))))
    path = {
        InvoiceState.DRAFT: [],
        InvoiceState.FINALIZED: [InvoiceState.FINALIZED],
        InvoiceState.PAID: [InvoiceState.FINALIZED, InvoiceState.PAID],
        InvoiceState.VOID: [InvoiceState.VOID],
    }[start]
    for state in path:
        invoice = invoice.to(state, at=at(days=32))
    with pytest.raises(InvalidTransition):
        invoice.to(end, at=at(days=33))


def test_finalizing_stamps_the_time():
    assert draft(ledger()).to(InvoiceState.FINALIZED, at=at(days=32)).finalized_at == at(days=32)


def test_a_finalized_invoice_cannot_be_revised():
    final = draft(ledger(run("a", at(), at(hours=1)))).to(InvoiceState.FINALIZED, at=at(days=32))
    with pytest.raises(Conflict, match="credit note"):
        final.revised([], [], at=at(days=33))


def test_a_draft_can_be_revised():
    revised = draft(ledger(run("a", at(), at(hours=1)))).revised([], [], at=at(days=33))
    assert revised.lines == ()


def test_full_credit_note_reverses_every_amount():
    final = draft(ledger(run("a", at(), at(hours=10))), catalog("EUR", "0.20")).to(
        InvoiceState.FINALIZED, at=at(days=32)
    )
    note = credit_note(final, InvoiceId("CN-1"), at=at(days=33), reason="wrong price")
    assert (note.total, note.milli_gpu_seconds, note.refers_to) == (
        -final.total,
        -final.milli_gpu_seconds,
        final.id,
    )
    assert note.state is InvoiceState.FINALIZED


def test_full_credit_note_reverses_applied_credits_too():
    final = draft(ledger(run("a", at(), at(hours=10))), credits=[credit("60.00")]).to(
        InvoiceState.FINALIZED, at=at(days=32)
    )
    note = credit_note(final, InvoiceId("CN-1"), at=at(days=33), reason="re-issue")
    assert note.subtotal == -final.subtotal


def test_partial_credit_note_adjusts_money_only():
    final = draft(ledger(run("a", at(), at(hours=10)))).to(InvoiceState.FINALIZED, at=at(days=32))
    note = credit_note(
        final, InvoiceId("CN-1"), at=at(days=33), reason="goodwill", amount=Money.of("10.00", "USD")
    )
    assert (str(note.subtotal), note.milli_gpu_seconds) == ("-10.00", 0)


def test_credit_note_cannot_exceed_the_invoice():
    final = draft(ledger(run("a", at(), at(hours=1), gpus=1))).to(InvoiceState.FINALIZED, at=at(days=32))
    with pytest.raises(InvalidInput) as err:
        credit_note(final, InvoiceId("CN-1"), at=at(days=33), reason="x", amount=Money.of("2.01", "USD"))
    assert err.value.details["field"] == "amount"


def test_a_draft_cannot_be_credited():
    with pytest.raises(Conflict):
        credit_note(draft(ledger()), InvoiceId("CN-1"), at=at(days=33), reason="x")


def test_invoice_ids_are_deterministic_per_tenant_and_period():
    assert (
        invoice_id_for(ACME, OCTOBER)
        == invoice_id_for(ACME, Period.month(2026, 10))
        == "INV-acme-20261001-20261101"
    )


hours = st.lists(st.tuples(st.integers(0, 600), st.integers(1, 200), st.sampled_from([1, 2, 8])), max_size=12)


@given(hours, st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("20"), places=4))
def test_lines_sum_to_the_subtotal_and_each_is_within_half_a_cent(runs, price):
    cat = PriceCatalog("USD", Decimal(0)).with_price(
        PriceKey.of("H100", "on-demand"), price, "USD", at(days=-1)
    )
    entries = ledger(
        *[run(f"a{i}", at(hours=s), at(hours=s + d), gpus=g) for i, (s, d, g) in enumerate(runs)]
    )
    lines = rate(entries, cat, OCTOBER, ACME)
    exact_total = sum((Fraction(price) * g * min(d, 744 - s) for s, d, g in runs if s < 744), Fraction(0))
    assert sum(line.amount.minor for line in lines) == round(exact_total * 100)
    assert all(
        abs(Fraction(line.amount.minor, 100) - Fraction(price) * line.gpu_hours) <= Fraction(1, 200)
        for line in lines
    )


def test_empty_period_draft_is_zero():
    invoice = draft([])
    assert (invoice.total, invoice.lines) == (Money.zero("USD"), ())


def test_issued_time_must_be_utc():
    with pytest.raises(InvalidInput):
        draft_invoice(InvoiceId("x"), ACME, OCTOBER, [], catalog(), [], at=T0.replace(tzinfo=None))


@given(
    hours,
    st.lists(
        st.tuples(
            st.integers(1, 700), st.decimals(min_value=Decimal("0.5"), max_value=Decimal("9"), places=2)
        ),
        max_size=8,
        unique_by=lambda c: c[0],
    ),
    st.one_of(st.none(), st.tuples(st.integers(0, 700), st.integers(1, 200))),
)
def test_rating_bills_every_second_once_whatever_the_price_changes(runs, changes, override):
    key = PriceKey.of("H100", "on-demand")
    cat = PriceCatalog("USD", Decimal(0)).with_price(key, "2.00", "USD", at(days=-1))
    for hour, price in sorted(changes):
        cat = cat.with_price(key, price, "USD", at(hours=hour))
    if override is not None:
        cat = cat.with_price(
            PriceKey.of("H100", "on-demand", tenant="acme"),
            "1.00",
            "USD",
            at(hours=override[0]),
            at(hours=override[0] + override[1]),
        )
    entries = ledger(
        *[run(f"a{i}", at(hours=s), at(hours=s + d), gpus=g) for i, (s, d, g) in enumerate(runs)]
    )
    lines = rate(entries, cat, OCTOBER, ACME)
    inside = sum(e.clipped_gpu_time(OCTOBER.start, OCTOBER.end).milli_gpu_seconds for e in entries)
    assert sum(line.milli_gpu_seconds for line in lines) == inside

"""Invoices: rating ledger entries against the price catalog, credits, tax, and the invoice lifecycle.

An invoice is for one tenant and one period. Lines group usage by (product, model, term, unit price); a
line's amount is rounded once (`money.round_half_even`), tax once on the subtotal. States move by the
`TRANSITIONS` table; a finalized invoice never changes again: corrections are credit notes, which are
invoices of kind `credit-note` with negative amounts referring to the original.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Final

from neocloud.billing.domain.metering import UsageEntry
from neocloud.billing.domain.pricing import PriceCatalog, PriceKey
from neocloud.kernel.errors import Conflict, InvalidInput, InvalidTransition
from neocloud.kernel.ids import InvoiceId, TenantId
from neocloud.kernel.money import MILLI_PER_GPU, SECONDS_PER_HOUR, Money, decimal_text, round_half_even, total
from neocloud.kernel.periods import Period, require_utc_second
from neocloud.kernel.products import Product


class InvoiceState(StrEnum):
    DRAFT = "draft"
    FINALIZED = "finalized"
    PAID = "paid"
    VOID = "void"


TRANSITIONS: Final[dict[InvoiceState, frozenset[InvoiceState]]] = {
    InvoiceState.DRAFT: frozenset({InvoiceState.FINALIZED, InvoiceState.VOID}),
    InvoiceState.FINALIZED: frozenset({InvoiceState.PAID, InvoiceState.VOID}),
    InvoiceState.PAID: frozenset(),
    InvoiceState.VOID: frozenset(),
}


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit-note"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """`milli_gpu_seconds` of `model` under `product` at `unit_price` per GPU-hour. A credit-note line has
    negative quantities; a pure money adjustment has `milli_gpu_seconds` 0."""

    product: str
    model: str
    term_months: int | None
    unit_price: Decimal
    milli_gpu_seconds: int
    amount: Money

    @property
    def gpu_hours(self) -> Fraction:
        return Fraction(self.milli_gpu_seconds, MILLI_PER_GPU * SECONDS_PER_HOUR)

    @property
    def gpu_hours_text(self) -> str:
        return decimal_text(self.gpu_hours, 3)

    @property
    def description(self) -> str:
        term = f" {self.term_months}-month" if self.term_months else ""
        return f"{self.model} {self.product}{term}"


@dataclass(frozen=True, slots=True)
class Credit:
    """Money given back to a tenant (e.g. for an incident), applied to its next invoice."""

    id: str
    tenant_id: TenantId
    amount: Money
    reason: str
    issued_at: datetime
    incident_id: str | None = None

    def __post_init__(self) -> None:
        if self.amount.minor <= 0:
            raise InvalidInput(
                "credit amount: must be positive", details={"field": "amount", "value": str(self.amount)}
            )
        if not self.reason.strip():
            raise InvalidInput("credit reason: must not be empty", details={"field": "reason"})
        require_utc_second(self.issued_at, "issued_at")


def line_amount(unit_price: Decimal, milli_gpu_seconds: int, currency: str) -> Money:
    return round_half_even(
        Fraction(unit_price) * Fraction(milli_gpu_seconds, MILLI_PER_GPU * SECONDS_PER_HOUR), currency
    )


@dataclass(frozen=True, slots=True)
class Invoice:
    id: InvoiceId
    tenant_id: TenantId
    period: Period
    currency: str
    lines: tuple[InvoiceLine, ...]
    credits: tuple[Credit, ...]
    tax_rate: Decimal
    issued_at: datetime
    state: InvoiceState = InvoiceState.DRAFT
    kind: InvoiceKind = InvoiceKind.INVOICE
    refers_to: InvoiceId | None = None
    note: str = ""
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None

    @property
    def usage_amount(self) -> Money:
        return total([line.amount for line in self.lines], self.currency)

    @property
    def credit_amount(self) -> Money:
        return total([c.amount for c in self.credits], self.currency)

    @property
    def subtotal(self) -> Money:
        return self.usage_amount - self.credit_amount

    @property
    def tax(self) -> Money:
        return round_half_even(Fraction(self.subtotal.decimal()) * Fraction(self.tax_rate), self.currency)

    @property
    def total(self) -> Money:
        return self.subtotal + self.tax

    @property
    def milli_gpu_seconds(self) -> int:
        return sum(line.milli_gpu_seconds for line in self.lines)

    def to(self, state: InvoiceState, *, at: datetime) -> Invoice:
        """The invoice in `state`; InvalidTransition when the table does not allow the move."""
        require_utc_second(at, "at")
        if state not in TRANSITIONS[self.state]:
            raise InvalidTransition(
                f"invoice {self.id}: cannot go from {self.state.value} to {state.value}",
                details={"id": self.id, "from": self.state.value, "to": state.value},
            )
        if state is InvoiceState.FINALIZED:
            return replace(self, state=state, finalized_at=at)
        if state is InvoiceState.PAID:
            return replace(self, state=state, paid_at=at)
        return replace(self, state=state, voided_at=at)

    def revised(self, lines: Sequence[InvoiceLine], credits: Sequence[Credit], *, at: datetime) -> Invoice:
        """A draft re-rated; a finalized invoice is immutable (Conflict: correct it with a credit note)."""
        if self.state is not InvoiceState.DRAFT:
            raise Conflict(
                f"invoice {self.id} is {self.state.value} and immutable; issue a credit note instead",
                details={"id": self.id, "state": self.state.value},
            )
        return replace(self, lines=tuple(lines), credits=tuple(credits), issued_at=at)


def rate(
    entries: Iterable[UsageEntry], catalog: PriceCatalog, period: Period, tenant: TenantId
) -> list[InvoiceLine]:
    """Invoice lines for `tenant`'s entries inside `period` (entries are clipped to it), priced with the
    catalog's effective-dated prices and the tenant's overrides."""
    quantities: dict[tuple[str, str, int, Decimal], int] = {}
    keys: dict[tuple[str, Product, int | None], PriceKey] = {}
    for entry in entries:
        if entry.tenant_id != tenant:
            continue
        lo, hi = max(entry.start, period.start), min(entry.end, period.end)
        if lo >= hi:
            continue
        ident = (entry.model, entry.product, entry.term_months)
        key = keys.get(ident)
        if key is None:
            key = keys[ident] = PriceKey(entry.model, entry.product, entry.term_months, tenant)
        rate_per_second = entry.gpus * entry.milli_per_gpu
        for segment in catalog.segments(key, lo, hi):
            seconds = int((segment.end - segment.start).total_seconds())
            group = (entry.product.value, entry.model, entry.term_months or 0, segment.per_gpu_hour)
            quantities[group] = quantities.get(group, 0) + rate_per_second * seconds
    lines = []
    for (product, model, term, price), milli in sorted(quantities.items()):
        lines.append(
            InvoiceLine(
                product, model, term or None, price, milli, line_amount(price, milli, catalog.currency)
            )
        )
    return lines


def applicable_credits(credits: Iterable[Credit], usage: Money) -> list[Credit]:
    """The pending credits this invoice can absorb whole, oldest first, without going below zero; the
    others wait for a later invoice."""
    chosen: list[Credit] = []
    left = usage
    for credit in sorted(credits, key=lambda c: (c.issued_at, c.id)):
        if credit.amount.currency == usage.currency and credit.amount <= left:
            chosen.append(credit)
            left = left - credit.amount
    return chosen


def draft_invoice(
    invoice_id: InvoiceId,
    tenant: TenantId,
    period: Period,
    entries: Iterable[UsageEntry],
    catalog: PriceCatalog,
    pending_credits: Iterable[Credit],
    *,
    at: datetime,
) -> Invoice:
    lines = rate(entries, catalog, period, tenant)
    usage = total([line.amount for line in lines], catalog.currency)
    credits = applicable_credits([c for c in pending_credits if c.tenant_id == tenant], usage)
    return Invoice(
        invoice_id,
        tenant,
        period,
        catalog.currency,
        tuple(lines),
        tuple(credits),
        catalog.tax_rate,
        require_utc_second(at, "at"),
    )


def invoice_id_for(tenant: TenantId, period: Period) -> InvoiceId:
    """Deterministic, so finalizing a period twice finds the same invoice instead of billing twice."""
    return InvoiceId(f"INV-{tenant}-{period.start:%Y%m%d}-{period.end:%Y%m%d}")


def credit_note(
    original: Invoice, note_id: InvoiceId, *, at: datetime, reason: str, amount: Money | None = None
) -> Invoice:
    """A finalized credit note against `original` (finalized or paid): a full reversal of its lines and
    credits, or, with `amount`, a money adjustment of that much before tax."""
    if original.kind is not InvoiceKind.INVOICE or original.state not in (
        InvoiceState.FINALIZED,
        InvoiceState.PAID,
    ):
        raise Conflict(
            f"invoice {original.id}: only a finalized or paid invoice can be credited",
            details={"id": original.id, "state": original.state.value},
        )
    if not reason.strip():
        raise InvalidInput("reason: a credit note needs a reason", details={"field": "reason"})
    if amount is None:
        lines = tuple(
            replace(line, milli_gpu_seconds=-line.milli_gpu_seconds, amount=-line.amount)
            for line in original.lines
        )
        credits: tuple[Credit, ...] = ()
        adjustment = original.credit_amount
        if adjustment.minor:
            lines += (InvoiceLine("credit", "-", None, Decimal(0), 0, adjustment),)
    else:
        if amount.currency != original.currency or not 0 < amount.minor <= original.subtotal.minor:
            raise InvalidInput(
                f"amount: must be positive and at most the invoice subtotal {original.subtotal} {original.currency}",
                details={"field": "amount", "value": str(amount)},
            )
        lines = (InvoiceLine("adjustment", "-", None, Decimal(0), 0, -amount),)
        credits = ()
    note = Invoice(
        note_id,
        original.tenant_id,
        original.period,
        original.currency,
        lines,
        credits,
        original.tax_rate,
        require_utc_second(at, "at"),
        kind=InvoiceKind.CREDIT_NOTE,
        refers_to=original.id,
        note=reason,
    )
    return note.to(InvoiceState.FINALIZED, at=at)


def check_replacement(old: Invoice | None, new: Invoice) -> None:
    """Conflict unless storing `new` over `old` is legal: anything over a draft, else only a state move
    that keeps every billed fact (a finalized invoice is immutable)."""
    if old is None or old.state is InvoiceState.DRAFT:
        return
    same = (old.lines, old.credits, old.period, old.tenant_id, old.kind) == (
        new.lines,
        new.credits,
        new.period,
        new.tenant_id,
        new.kind,
    )
    if not same or new.state not in TRANSITIONS[old.state]:
        raise Conflict(f"invoice {new.id} is {old.state.value} and immutable", details={"id": new.id})

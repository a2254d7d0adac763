"""SLA reports and credits: availability per allocation over a billing period, the schedule's credit,
issued once through billing's credit port.

The charge an SLA credit is a share of is the allocation's price over the part of the period it
covers: a reservation's total pro rata of its window, an on-demand instance's hourly price times its
hours. Spot is not covered (REFERENCE.md: interrupted/preemptible VMs are not). Credits are issued for
a period once it is over, before its invoice is finalized, so they land on that period's invoice;
billing's key (`SLA-<allocation>-<period>`) makes a retry, a replay or a restart issue nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from neocloud.control.domain.allocations import Allocation
from neocloud.control.domain.tenancy import Principal
from neocloud.health.app.deps import HealthDeps
from neocloud.health.app.ports import IssuedCredit
from neocloud.health.domain.notices import Notice, NoticeKind
from neocloud.health.domain.sla import Outage, availability, credit
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import AllocationId, TenantId
from neocloud.kernel.money import CURRENCY_EXPONENT, Money, round_half_even
from neocloud.kernel.periods import Period
from neocloud.kernel.products import Product


@dataclass(frozen=True, slots=True)
class SlaLine:
    tenant: TenantId
    allocation: AllocationId
    shape: str
    gpus: int
    availability_pct: str
    credit_pct: str
    charge: str
    credit: str
    issued: bool
    credit_minor: int = 0
    currency: str = "USD"
    availability: Fraction = Fraction(1)


@dataclass(frozen=True, slots=True)
class SlaReport:
    period_start: datetime
    period_end: datetime
    target_pct: str
    lines: tuple[SlaLine, ...]


def charge_in(alloc: Allocation, start: datetime, end: datetime) -> Money:
    """The allocation's price over [start, end) ∩ its window (see the module's docstring)."""
    lo = max(start, alloc.start)
    if alloc.product is Product.RESERVED:
        if alloc.end is None:
            return Money(0, alloc.currency)
        hi = min(end, alloc.end)
        if hi <= lo:
            return Money(0, alloc.currency)
        share = Fraction(int((hi - lo).total_seconds()), int((alloc.end - alloc.start).total_seconds()))
        return round_half_even(
            Fraction(alloc.price_minor, 10 ** CURRENCY_EXPONENT[alloc.currency]) * share, alloc.currency
        )
    stop = alloc.ended_at or alloc.end or end
    hi = min(end, stop)
    if hi <= lo:
        return Money(0, alloc.currency)
    hours = Fraction(int((hi - lo).total_seconds()), 3600)
    return round_half_even(
        Fraction(alloc.price_minor, 10 ** CURRENCY_EXPONENT[alloc.currency]) * hours, alloc.currency
    )


class SlaService:
    def __init__(self, deps: HealthDeps) -> None:
        self._d = deps

    def report(self, principal: Principal, period: Period, tenant: TenantId | None = None) -> SlaReport:
        """Availability and credit of every covered allocation in `period`: a tenant's own (naming
        another tenant is NotFound, worded like a missing one); an operator's of every tenant, or of
        `tenant`."""
        if not principal.sees_everything:
            if tenant is not None:
                principal.visible(tenant, "tenant", tenant)
            tenant = principal.tenant_id
        lines = [] if tenant is None and not principal.sees_everything else self._lines(period, tenant)
        terms = self._d.settings.sla
        return SlaReport(period.start, period.end, str(terms.target_pct), tuple(lines))

    def _lines(self, period: Period, tenant: TenantId | None = None) -> list[SlaLine]:
        """One line per covered allocation (of `tenant`, when named); the period's outages are read once."""
        now = self._d.clock.now()
        end = min(period.end, now)
        if end <= period.start:
            return []
        terms = self._d.settings.sla
        issued = {c.key for c in self._d.store.credits()}
        by_allocation: dict[AllocationId, list[Outage]] = {}
        for o in self._d.store.outages(since=period.start):
            by_allocation.setdefault(o.allocation, []).append(o)
        out = []
        for alloc in self._d.control.allocations_between(period.start, end, tenant):
            if alloc.product is Product.SPOT:
                continue
            stop = min(x for x in (alloc.end, alloc.ended_at, end) if x is not None)
            if stop <= alloc.start:
                continue
            outages = by_allocation.get(alloc.id, [])
            avail = availability(alloc.gpus, alloc.shape, (alloc.start, stop), (period.start, end), outages)
            share = terms.credit_share(avail.fraction)
            charge = charge_in(alloc, period.start, end)
            amount = credit(charge, share)
            pct = Decimal(avail.fraction.numerator) / Decimal(avail.fraction.denominator) * 100
            out.append(
                SlaLine(
                    alloc.tenant_id,
                    alloc.id,
                    alloc.shape,
                    alloc.gpus,
                    f"{pct:.4f}",
                    f"{share * 100:.0f}",
                    str(charge),
                    str(amount),
                    _key(alloc.id, period) in issued,
                    amount.minor,
                    amount.currency,
                    avail.fraction,
                )
            )
        return out

    def issue_credits(self, principal: Principal | None, period: Period) -> list[IssuedCredit]:
        """Issue the credits the period's availability earns, once each. The period must be over."""
        if principal is not None:
            principal.require_operator("issuing SLA credits")
        now = self._d.clock.now()
        if now < period.end:
            raise Conflict(f"period {period.label()} is not over", details={"period": period.label()})
        if self._d.credits is None:
            raise Conflict("no billing is configured to issue credits through")
        made = []
        for line in self._lines(period):
            if line.credit_minor <= 0 or line.issued:
                continue
            key = _key(line.allocation, period)
            reason = (
                f"SLA credit {line.credit_pct} % for {line.allocation} in {period.label()}: "
                f"availability {line.availability_pct} % (target {self._d.settings.sla.target_pct} %)"
            )
            credit_id = self._d.credits.issue_sla_credit(line.tenant, line.credit, reason, key)
            record = IssuedCredit(
                key,
                line.tenant,
                line.allocation,
                period.start,
                line.availability_pct,
                line.credit_minor,
                line.currency,
                credit_id,
                now,
            )
            if self._d.store.add_credit(record):
                made.append(record)
                self._d.store.add_notice(
                    Notice(
                        record.tenant,
                        NoticeKind.CREDIT_ISSUED,
                        now,
                        reason,
                        record.allocation,
                        {"credit": line.credit, "currency": line.currency, "period": period.label()},
                    )
                )
        return made

    def close_period(self, principal: Principal | None, period: Period) -> list[str]:
        """Issue the period's SLA credits, then finalize its invoices (so the credits are lines of
        them), and tell each tenant its invoice is final. Idempotent; the invoice ids."""
        self.issue_credits(principal, period)
        assert self._d.credits is not None
        told = {
            n.data.get("invoice")
            for n in self._d.store.notices(None, None, 100_000)
            if n.kind is NoticeKind.INVOICE_FINALIZED
        }
        ids: list[str] = []
        for invoice in self._d.credits.finalize(period):
            ids.append(str(invoice.id))
            if invoice.id in told:
                continue
            self._d.store.add_notice(
                Notice(
                    invoice.tenant_id,
                    NoticeKind.INVOICE_FINALIZED,
                    self._d.clock.now(),
                    f"invoice {invoice.id} for {period.label()} is final: {invoice.total}",
                    None,
                    {
                        "invoice": invoice.id,
                        "total": str(invoice.total),
                        "credits": str(invoice.credit_amount),
                    },
                )
            )
        return ids


def _key(allocation: str, period: Period) -> str:
    return f"SLA-{allocation}-{period.label()}"

"""Reconciliation (allocations vs ledger vs invoices) and revenue reporting: pure functions over records.

Quantities are milli-GPU-seconds inside; reports give GPU-seconds as decimal strings (exact: whole-GPU
usage is always whole seconds, a shared GPU adds at most three decimals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, Final

from neocloud.billing.domain.invoices import Invoice, InvoiceState
from neocloud.billing.domain.metering import LifecycleEvent, UsageEntry, allocation_usage, group_events
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.ids import AllocationId, TenantId
from neocloud.kernel.money import MILLI_PER_GPU, Money
from neocloud.kernel.periods import Period, to_epoch


def gpu_seconds_text(milli_gpu_seconds: int) -> str:
    """Exact GPU-seconds as a decimal string: "3600", "0.300"."""
    if milli_gpu_seconds % MILLI_PER_GPU == 0:
        return str(milli_gpu_seconds // MILLI_PER_GPU)
    return f"{Decimal(milli_gpu_seconds).scaleb(-3):.3f}"


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    period: Period
    allocations_milli: int
    ledger_milli: int
    invoiced_milli: int
    differences: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.label(),
            "allocations_seconds": gpu_seconds_text(self.allocations_milli),
            "ledger_seconds": gpu_seconds_text(self.ledger_milli),
            "invoiced_seconds": gpu_seconds_text(self.invoiced_milli),
            "differences": self.differences,
        }


def _diff(kind: str, expected: int, actual: int, **ident: str) -> dict[str, Any]:
    return {
        "kind": kind,
        **ident,
        "expected_seconds": gpu_seconds_text(expected),
        "actual_seconds": gpu_seconds_text(actual),
    }


def reconcile(
    events: Iterable[LifecycleEvent],
    ledger: Iterable[UsageEntry],
    invoices: Iterable[Invoice],
    period: Period,
    *,
    until: datetime,
    terms: Sequence[int],
    grid_seconds: int,
) -> ReconcileReport:
    """Compare, inside `period`, what allocation events imply (settled as of `until`), what the ledger
    holds, and what non-void invoices contained in `period` bill. Every mismatch is a difference:
    per allocation (events vs ledger, overlapping ledger entries) and per tenant (ledger vs invoices;
    a tenant with usage but no invoice once the period has ended)."""
    horizon = to_epoch(until)
    expected: dict[AllocationId, int] = {}
    tenant_of: dict[AllocationId, TenantId] = {}
    for allocation_id, allocation_events in group_events(events).items():
        if min(to_epoch(e.at) for e in allocation_events) > horizon:
            continue
        usage = allocation_usage(allocation_events, horizon, terms)
        tenant_of[allocation_id] = usage.first.tenant_id
        span = usage.span(horizon, settled=True, grid_seconds=grid_seconds)
        if span is None:
            continue
        lo, hi = max(span[0], to_epoch(period.start)), min(span[1], to_epoch(period.end))
        if hi > lo:
            expected[allocation_id] = usage.first.gpus * usage.first.milli_per_gpu * (hi - lo)

    metered: dict[AllocationId, int] = {}
    by_tenant: dict[TenantId, int] = {}
    spans: dict[AllocationId, list[UsageEntry]] = {}
    for entry in ledger:
        tenant_of.setdefault(entry.allocation_id, entry.tenant_id)
        spans.setdefault(entry.allocation_id, []).append(entry)
        milli = entry.clipped_gpu_time(period.start, period.end).milli_gpu_seconds
        if milli:
            metered[entry.allocation_id] = metered.get(entry.allocation_id, 0) + milli
            by_tenant[entry.tenant_id] = by_tenant.get(entry.tenant_id, 0) + milli

    differences: list[dict[str, Any]] = []
    for allocation_id, entries in sorted(spans.items()):
        entries.sort(key=lambda e: e.start)
        for before, after in pairwise(entries):
            if after.start < before.end:
                differences.append(
                    {
                        "kind": "ledger-overlap",
                        "allocation_id": allocation_id,
                        "entries": [before.id, after.id],
                    }
                )
    for allocation_id in sorted(set(expected) | set(metered)):
        want, got = expected.get(allocation_id, 0), metered.get(allocation_id, 0)
        if want != got:
            differences.append(
                _diff(
                    "allocation-vs-ledger",
                    want,
                    got,
                    allocation_id=allocation_id,
                    tenant_id=tenant_of[allocation_id],
                )
            )

    invoiced: dict[TenantId, int] = {}
    for invoice in invoices:
        inside = period.start <= invoice.period.start and invoice.period.end <= period.end
        if inside and invoice.state is not InvoiceState.VOID and invoice.state is not InvoiceState.DRAFT:
            invoiced[invoice.tenant_id] = invoiced.get(invoice.tenant_id, 0) + invoice.milli_gpu_seconds
    closed = period.end <= until
    for tenant in sorted(set(by_tenant) | set(invoiced)):
        want, got = by_tenant.get(tenant, 0), invoiced.get(tenant, 0)
        if tenant not in invoiced and not closed:
            continue
        if want != got:
            kind = "uninvoiced" if tenant not in invoiced else "ledger-vs-invoices"
            differences.append(_diff(kind, want, got, tenant_id=tenant))
    return ReconcileReport(
        period,
        sum(expected.values()),
        sum(metered.values()),
        sum(invoiced.values()),
        differences,
    )


REVENUE_GROUPINGS: Final = ("model", "product", "tenant", "month")


def revenue(invoices: Iterable[Invoice], by: str) -> list[dict[str, str]]:
    """Billed revenue before tax of finalized and paid invoices and credit notes (negative lines count
    like any other), grouped `by` one of REVENUE_GROUPINGS; invoice-level credits count under model and
    product "credit"."""
    if by not in REVENUE_GROUPINGS:
        raise InvalidInput(
            f"by: must be one of {list(REVENUE_GROUPINGS)}", details={"field": "by", "value": by}
        )
    sums: dict[tuple[str, str], Money] = {}

    def add(group: str, amount: Money) -> None:
        k = (group, amount.currency)
        sums[k] = sums.get(k, Money.zero(amount.currency)) + amount

    for invoice in invoices:
        if invoice.state not in (InvoiceState.FINALIZED, InvoiceState.PAID):
            continue
        whole = {"tenant": invoice.tenant_id, "month": f"{invoice.period.start:%Y-%m}"}
        if by in whole:
            add(whole[by], invoice.subtotal)
            continue
        for line in invoice.lines:
            add(line.model if by == "model" else line.product, line.amount)
        if invoice.credits:
            add("credit", -invoice.credit_amount)
    return [
        {by: group, "currency": currency, "amount": str(amount)}
        for (group, currency), amount in sorted(sums.items())
    ]


def usage_by(entries: Iterable[UsageEntry], by: str, period: Period) -> Mapping[str, int]:
    """Milli-GPU-seconds inside `period` grouped by model, project, product, day or allocation."""
    if by not in ("model", "project", "product", "day", "allocation"):
        raise InvalidInput("by: must be model, project, product or day", details={"field": "by", "value": by})
    out: dict[str, int] = {}
    for entry in entries:
        if by == "day":
            for day in _days(entry, period):
                out[day[0]] = out.get(day[0], 0) + day[1]
            continue
        milli = entry.clipped_gpu_time(period.start, period.end).milli_gpu_seconds
        if milli:
            group = {
                "model": entry.model,
                "project": entry.project_id,
                "product": entry.product.value,
                "allocation": entry.allocation_id,
            }[by]
            out[group] = out.get(group, 0) + milli
    return dict(sorted(out.items()))


def _days(entry: UsageEntry, period: Period) -> list[tuple[str, int]]:
    lo, hi = max(entry.start, period.start), min(entry.end, period.end)
    out = []
    while lo < hi:
        day_end = min(hi, lo.replace(hour=0, minute=0, second=0) + _DAY)
        out.append((f"{lo:%Y-%m-%d}", entry.gpus * entry.milli_per_gpu * int((day_end - lo).total_seconds())))
        lo = day_end
    return out


_DAY: Final = timedelta(days=1)

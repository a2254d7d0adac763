"""The exact engine's money at the horizon: revenue read from billing's invoices, and SLA credits issued
through billing's use case (`engine` is the ExactEngine after its run; not imported here, which would be
an import cycle)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from neocloud.kernel.ids import TenantId
from neocloud.kernel.periods import Period
from neocloud.sim import sla
from neocloud.sim.model import PRODUCTS


def invoiced(engine: Any) -> tuple[dict[str, Decimal], dict[tuple[int, str], Decimal]]:
    """Revenue by product from the invoices of every tenant and month of the horizon (billing's drafts up
    to the horizon), and each contract's reserved revenue per month (a tenant's reserved lines split
    between its contracts by GPUs)."""
    m = engine.m
    by_product = {p: Decimal(0) for p in PRODUCTS}
    by_contract: dict[tuple[int, str], Decimal] = {}
    months = [Period.month_of(m.at(lo)) for _, lo, _ in m.months(0, m.horizon)]
    contracts_of: dict[TenantId, list[int]] = {}
    for i, tenant in enumerate(engine.contract_tenant):
        contracts_of.setdefault(tenant, []).append(i)
    for tid in sorted(engine.tenants.values()):
        for period in months:
            invoice = engine.billing.preview(tid, period)
            for line in invoice.lines:
                amount = line.amount.decimal()
                by_product[line.product] = by_product.get(line.product, Decimal(0)) + amount
                if line.product == "reserved" and tid in contracts_of:
                    ids = contracts_of[tid]
                    total = sum(m.scenario.reserved[i].gpus for i in ids)
                    for i in ids:
                        share = amount * m.scenario.reserved[i].gpus / total
                        key = (i, period.label())
                        by_contract[key] = by_contract.get(key, Decimal(0)) + share
    return by_product, by_contract


def issue_credits(engine: Any) -> Decimal:
    """Issue each contract's SLA credit per month through billing; returns the total."""
    total = Decimal(0)
    m = engine.m
    for i, month, availability, amount in sla.credit_lines(m, engine.t.revenue_by_contract_month):
        tenant = engine.contract_tenant[i]
        reason = f"SLA {month}: availability {availability:.5f} of contract {i}"
        engine.calls.add(
            m.horizon, "issue_credit", tenant=m.scenario.reserved[i].tenant, amount=str(amount), reason=reason
        )
        engine.billing.issue_credit(tenant, str(amount), reason)
        total += amount
    return total

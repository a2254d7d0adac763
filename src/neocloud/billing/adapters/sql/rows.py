"""Rows of the billing tables to domain objects and back (usage entries and invoice documents)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from neocloud.billing.domain.invoices import Credit, Invoice, InvoiceKind, InvoiceLine, InvoiceState
from neocloud.billing.domain.metering import UsageEntry
from neocloud.kernel.ids import AllocationId, InvoiceId, ProjectId, TenantId
from neocloud.kernel.money import Money
from neocloud.kernel.periods import Period
from neocloud.kernel.products import Product


def entry_of(r: Any) -> UsageEntry:
    return UsageEntry(
        r.id,
        TenantId(r.tenant_id),
        ProjectId(r.project_id),
        AllocationId(r.allocation_id),
        r.model,
        Product(r.product),
        r.term_months,
        r.start_at,
        r.end_at,
        r.gpus,
        r.milli_per_gpu,
    )


def invoice_row(inv: Invoice) -> dict[str, Any]:
    lines = [
        {
            "product": x.product,
            "model": x.model,
            "term_months": x.term_months,
            "unit_price": str(x.unit_price),
            "milli_gpu_seconds": x.milli_gpu_seconds,
            "amount_minor": x.amount.minor,
        }
        for x in inv.lines
    ]
    credits = [
        {
            "id": c.id,
            "tenant_id": c.tenant_id,
            "amount_minor": c.amount.minor,
            "reason": c.reason,
            "issued_at": c.issued_at.isoformat(),
            "incident_id": c.incident_id,
        }
        for c in inv.credits
    ]
    return {
        "id": inv.id,
        "tenant_id": inv.tenant_id,
        "period_start": inv.period.start,
        "period_end": inv.period.end,
        "currency": inv.currency,
        "kind": inv.kind.value,
        "state": inv.state.value,
        "refers_to": inv.refers_to,
        "note": inv.note,
        "tax_rate": str(inv.tax_rate),
        "lines": json.dumps(lines),
        "credits": json.dumps(credits),
        "total_minor": inv.total.minor,
        "issued_at": inv.issued_at,
        "finalized_at": inv.finalized_at,
        "paid_at": inv.paid_at,
        "voided_at": inv.voided_at,
    }


def invoice_of(r: Any) -> Invoice:
    lines = tuple(
        InvoiceLine(
            x["product"],
            x["model"],
            x["term_months"],
            Decimal(x["unit_price"]),
            x["milli_gpu_seconds"],
            Money(x["amount_minor"], r.currency),
        )
        for x in json.loads(r.lines)
    )
    credits = tuple(
        Credit(
            c["id"],
            TenantId(c["tenant_id"]),
            Money(c["amount_minor"], r.currency),
            c["reason"],
            datetime.fromisoformat(c["issued_at"]),
            c["incident_id"],
        )
        for c in json.loads(r.credits)
    )
    return Invoice(
        InvoiceId(r.id),
        TenantId(r.tenant_id),
        Period(r.period_start, r.period_end),
        r.currency,
        lines,
        credits,
        Decimal(r.tax_rate),
        r.issued_at,
        InvoiceState(r.state),
        InvoiceKind(r.kind),
        InvoiceId(r.refers_to) if r.refers_to else None,
        r.note,
        r.finalized_at,
        r.paid_at,
        r.voided_at,
    )

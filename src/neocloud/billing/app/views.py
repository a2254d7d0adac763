"""What billing returns to the edge: invoices, usage and prices as plain JSON-ready dicts (amounts as
decimal strings, GPU time as exact GPU-seconds and GPU-hours)."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from neocloud.billing.domain.invoices import Invoice
from neocloud.billing.domain.pricing import PricePeriod
from neocloud.billing.domain.reconcile import gpu_seconds_text
from neocloud.kernel.ids import ProjectId
from neocloud.kernel.money import decimal_text


def invoice_view(invoice: Invoice, tenant_name: str | None = None) -> dict[str, Any]:
    """The wire shape of an invoice; `tenant_name` is who it is billed to, by name."""
    return {
        "id": invoice.id,
        "tenant": invoice.tenant_id,
        "tenant_name": tenant_name,
        "period": invoice.period.label(),
        "period_start": invoice.period.start.isoformat(),
        "period_end": invoice.period.end.isoformat(),
        "kind": invoice.kind.value,
        "state": invoice.state.value,
        "refers_to": invoice.refers_to,
        "note": invoice.note,
        "currency": invoice.currency,
        "lines": [
            {
                "product": line.product,
                "model": line.model,
                "term_months": line.term_months,
                "gpu_hours": line.gpu_hours_text,
                "unit_price": str(line.unit_price),
                "amount": str(line.amount),
            }
            for line in invoice.lines
        ],
        "credits": [
            {"id": c.id, "reason": c.reason, "incident_id": c.incident_id, "amount": str(c.amount)}
            for c in invoice.credits
        ],
        "subtotal": str(invoice.subtotal),
        "tax_rate": str(invoice.tax_rate),
        "tax": str(invoice.tax),
        "total": str(invoice.total),
        "issued_at": invoice.issued_at.isoformat(),
        "finalized_at": invoice.finalized_at.isoformat() if invoice.finalized_at else None,
        "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else None,
        "voided_at": invoice.voided_at.isoformat() if invoice.voided_at else None,
    }


def invoice_summary(invoice: Invoice, tenant_name: str | None = None) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "tenant": invoice.tenant_id,
        "tenant_name": tenant_name,
        "period": invoice.period.label(),
        "kind": invoice.kind.value,
        "state": invoice.state.value,
        "currency": invoice.currency,
        "total": str(invoice.total),
    }


def preview_view(invoice: Invoice, tenant_name: str | None = None) -> dict[str, Any]:
    """The `invoices preview` document: lines, subtotal, tax, total, currency."""
    full = invoice_view(invoice, tenant_name)
    return {
        "tenant": full["tenant"],
        "tenant_name": full["tenant_name"],
        "period": full["period"],
        "lines": [
            {k: line[k] for k in ("product", "model", "gpu_hours", "unit_price", "amount")}
            for line in full["lines"]
        ],
        "credits": full["credits"],
        "subtotal": full["subtotal"],
        "tax": full["tax"],
        "total": full["total"],
        "currency": full["currency"],
    }


def usage_view(
    groups: dict[str, int], by: str, period_label: str, project_names: Mapping[ProjectId, str] | None = None
) -> dict[str, Any]:
    """Usage items keyed by the grouping `by`; grouped by project, each also has its `project_name`."""
    names = {} if project_names is None else project_names
    return {
        "period": period_label,
        "by": by,
        "items": [
            {
                by: key,
                **({"project_name": names.get(ProjectId(key))} if by == "project" else {}),
                "gpu_seconds": gpu_seconds_text(milli),
                "gpu_hours": decimal_text(Fraction(milli, 3_600_000), 3),
            }
            for key, milli in groups.items()
        ],
        "total_gpu_seconds": gpu_seconds_text(sum(groups.values())),
    }


def price_view(period: PricePeriod, tenant_name: str | None = None) -> dict[str, Any]:
    return {
        "model": period.key.model,
        "product": period.key.product.value,
        "term_months": period.key.term_months,
        "tenant": period.key.tenant,
        "tenant_name": tenant_name,
        "price": str(period.per_gpu_hour),
        "currency": period.currency,
        "from": period.start.isoformat(),
        "to": period.end.isoformat() if period.end else None,
    }


def reconcile_view(report: dict[str, Any], tenant_names: Mapping[str, str]) -> dict[str, Any]:
    """A reconcile report's document with each difference that names a tenant also naming it."""
    return {
        **report,
        "differences": [
            {**d, "tenant_name": tenant_names.get(d["tenant_id"], "")} if "tenant_id" in d else d
            for d in report["differences"]
        ],
    }

"""Invoice documents: CSV for machines and spreadsheets, print-friendly HTML for people.

Both render the same facts from an `Invoice`: amounts are the domain's exact Money, shown with the
currency's decimals; GPU-hours with three decimals.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from neocloud.domain.invoices import Invoice

CSV_COLUMNS = (
    "invoice_id", "tenant", "period_start", "period_end", "kind", "state", "row", "description", "product",
    "model", "term_months", "gpu_hours", "unit_price", "amount", "currency",
)


def invoice_to_dict(invoice: Invoice) -> dict[str, Any]:
    """The wire shape of an invoice: amounts as decimal strings."""
    return {
        "id": invoice.id,
        "tenant": invoice.tenant_id,
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
            {"id": c.id, "reason": c.reason, "incident_id": c.incident_id, "amount": str(c.amount)} for c in invoice.credits
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


def invoice_csv(invoice: Invoice) -> str:
    """One row per line and per credit, then subtotal, tax and total rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    head = [invoice.id, invoice.tenant_id, invoice.period.start.isoformat(), invoice.period.end.isoformat(),
            invoice.kind.value, invoice.state.value]
    for line in invoice.lines:
        writer.writerow([*head, "line", line.description, line.product, line.model, line.term_months or "",
                         line.gpu_hours_text, line.unit_price, line.amount, invoice.currency])
    for credit in invoice.credits:
        writer.writerow([*head, "credit", credit.reason, "", "", "", "", "", -credit.amount, invoice.currency])
    for row, amount in (("subtotal", invoice.subtotal), ("tax", invoice.tax), ("total", invoice.total)):
        writer.writerow([*head, row, row if row != "tax" else f"tax {invoice.tax_rate}", "", "", "", "", "", amount,
                         invoice.currency])
    return out.getvalue()


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("neocloud", "web/templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


def invoice_html(invoice: Invoice, *, seller: str = "neocloud") -> str:
    """A self-contained HTML page (inline CSS, print styles), escaped by Jinja2's autoescape."""
    return _environment().get_template("invoice.html").render(invoice=invoice_to_dict(invoice), seller=seller)

"""Invoice documents: CSV for machines and spreadsheets, print-friendly HTML for people (the
`InvoiceRenderer` of app/billing.py).

Both render the same facts from an `Invoice`: amounts are the domain's exact Money, shown with the
currency's decimals; GPU-hours with three decimals.
"""

from __future__ import annotations

import csv
import io

from jinja2 import Environment, PackageLoader, select_autoescape

from neocloud.billing.app.views import invoice_view
from neocloud.billing.domain.invoices import Invoice

CSV_COLUMNS = (
    "invoice_id",
    "tenant",
    "tenant_name",
    "period_start",
    "period_end",
    "kind",
    "state",
    "row",
    "description",
    "product",
    "model",
    "term_months",
    "gpu_hours",
    "unit_price",
    "amount",
    "currency",
)


def invoice_csv(invoice: Invoice, tenant_name: str | None = None) -> str:
    """One row per line and per credit, then subtotal, tax and total rows; `tenant_name` is who it is
    billed to (empty when unknown)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    head = [
        invoice.id,
        invoice.tenant_id,
        tenant_name or "",
        invoice.period.start.isoformat(),
        invoice.period.end.isoformat(),
        invoice.kind.value,
        invoice.state.value,
    ]
    for line in invoice.lines:
        writer.writerow(
            [
                *head,
                "line",
                line.description,
                line.product,
                line.model,
                line.term_months or "",
                line.gpu_hours_text,
                line.unit_price,
                line.amount,
                invoice.currency,
            ]
        )
    for credit in invoice.credits:
        writer.writerow(
            [*head, "credit", credit.reason, "", "", "", "", "", -credit.amount, invoice.currency]
        )
    for row, amount in (("subtotal", invoice.subtotal), ("tax", invoice.tax), ("total", invoice.total)):
        writer.writerow(
            [
                *head,
                row,
                row if row != "tax" else f"tax {invoice.tax_rate}",
                "",
                "",
                "",
                "",
                "",
                amount,
                invoice.currency,
            ]
        )
    return out.getvalue()


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("neocloud", "web/templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


def invoice_html(invoice: Invoice, tenant_name: str | None = None, *, seller: str = "neocloud") -> str:
    """A self-contained HTML page (inline CSS, print styles), escaped by Jinja2's autoescape; billed to
    `tenant_name` (with the tenant id beside it), or to the id alone when the name is unknown."""
    return (
        _environment()
        .get_template("invoice.html")
        .render(invoice=invoice_view(invoice, tenant_name), seller=seller)
    )


class InvoiceDocuments:
    """The InvoiceRenderer port: CSV and HTML."""

    def __init__(self, seller: str = "neocloud") -> None:
        self.seller = seller

    def csv(self, invoice: Invoice, tenant_name: str | None = None) -> str:
        return invoice_csv(invoice, tenant_name)

    def html(self, invoice: Invoice, tenant_name: str | None = None) -> str:
        return invoice_html(invoice, tenant_name, seller=self.seller)

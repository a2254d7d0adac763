"""Billing on the wire: usage, invoice previews, invoices and their summaries, as the billing routes
serve them (billing/app/views.py builds the documents; these models are their schema).

Every amount is a decimal string in the invoice's currency (never a float); GPU time is an exact
decimal string of GPU-seconds, and GPU-hours to three decimals. Instants inside billing documents
are ISO 8601 strings with an explicit UTC offset, exactly as billing writes them. CSV and HTML
downloads of an invoice are documents, not JSON, and have no model here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True)


# ---- usage --------------------------------------------------------------------------------------------


class UsageItem(_Doc):
    """The usage of one group. Exactly one of model, project, product and day is present: the grouping
    asked with ?by=; the other three are absent from the document (never null). By project, the item
    also has the project's name."""

    model: str | None = Field(None, description="by=model: the GPU model")
    project: str | None = Field(None, description="by=project: the project id")
    project_name: str | None = Field(None, description="by=project: the project's name")
    product: str | None = Field(None, description="by=product: on-demand, reserved or spot")
    day: str | None = Field(None, description="by=day: the UTC day, YYYY-MM-DD")
    gpu_seconds: str = Field(description="exact GPU-seconds, a decimal string")
    gpu_hours: str = Field(description="GPU-hours to three decimals")

    def key(self, by: str) -> str | None:
        """The group's name under the grouping `by` (model, project, product or day)."""
        value: str | None = getattr(self, by)
        return value


class UsageOut(_Doc):
    """Metered GPU usage of a tenant over a period (settled ledger entries and what is not settled yet)."""

    tenant: str
    tenant_name: str | None = Field(None, description="the tenant's name")
    period: str = Field(description="YYYY-MM for a calendar month, else start/end in ISO 8601")
    by: str = Field(description="the grouping: model, project, product or day")
    items: list[UsageItem]
    total_gpu_seconds: str


# ---- invoices -----------------------------------------------------------------------------------------


class InvoiceLine(_Doc):
    """GPU-hours of one product and model (and reserved term) at one unit price."""

    product: str
    model: str
    term_months: int | None = Field(description="the reserved term; null for on-demand and spot")
    gpu_hours: str
    unit_price: str = Field(description="per GPU-hour")
    amount: str


class InvoiceCredit(_Doc):
    """A credit deducted from the invoice before tax."""

    id: str
    reason: str
    incident_id: str | None = Field(description="the node incident it credits, if any")
    amount: str


class InvoiceOut(_Doc):
    """One invoice or credit note, with its lines, credits, tax and total."""

    id: str
    tenant: str
    tenant_name: str | None = Field(None, description="who it is billed to, by name")
    period: str = Field(description="YYYY-MM")
    period_start: str
    period_end: str
    kind: str = Field(description="invoice or credit-note")
    state: str = Field(description="draft, finalized, paid or void")
    refers_to: str | None = Field(description="for a credit note: the invoice it corrects")
    note: str
    currency: str
    lines: list[InvoiceLine]
    credits: list[InvoiceCredit]
    subtotal: str
    tax_rate: str
    tax: str
    total: str
    issued_at: str
    finalized_at: str | None
    paid_at: str | None
    voided_at: str | None


class InvoiceSummary(_Doc):
    """An invoice as listed: who, which month, what kind, its state and total."""

    id: str
    tenant: str
    tenant_name: str | None = Field(None, description="the tenant's name")
    period: str
    kind: str
    state: str
    currency: str
    total: str


class PreviewLine(_Doc):
    """An invoice line of a preview (a preview has no reserved term column)."""

    product: str
    model: str
    gpu_hours: str
    unit_price: str
    amount: str


class InvoicePreviewOut(_Doc):
    """What a month's invoice would say now; nothing is saved."""

    tenant: str
    tenant_name: str | None = Field(None, description="the tenant's name")
    period: str
    lines: list[PreviewLine]
    credits: list[InvoiceCredit]
    subtotal: str
    tax: str
    total: str
    currency: str

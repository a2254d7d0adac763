"""Usage and invoices: what a tenant has used and owes (operators name the tenant).

billing/app/access.py builds each answer as a JSON-ready document; the route's `response_model` (from
neocloud.wire.billing) is its schema and validates it on the way out. Usage items carry only the key of
the grouping asked (?by=), so the usage route leaves unset fields out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from neocloud.api.deps import Caller
from neocloud.api.routers.slurm import job_usage
from neocloud.billing.app import access
from neocloud.billing.app.service import BillingService
from neocloud.kernel.errors import NotReady
from neocloud.wire.billing import InvoiceOut, InvoicePreviewOut, InvoiceSummary, UsageOut
from neocloud.wire.slurm import JobUsageOut

router = APIRouter(tags=["billing"])

InvoiceIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,200}$")]
TenantQuery = Annotated[
    str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="operators: which tenant")
]


class BillingServices(Protocol):
    billing: BillingService | None


def billing(request: Request) -> BillingService:
    services: BillingServices = request.app.state.services
    service: BillingService | None = getattr(services, "billing", None)
    if service is None:
        raise NotReady("billing is not configured on this server")
    return service


Billing = Annotated[BillingService, Depends(billing)]


@router.get(
    "/usage",
    response_model=UsageOut,
    responses={200: {"description": "by=job answers a JobUsageOut (neocloud.wire.slurm) instead"}},
    response_model_exclude_unset=True,
    summary="GPU usage of a period (default: this month so far), grouped by model, project, day or job",
)
def get_usage(
    request: Request,
    caller: Caller,
    start: Annotated[
        datetime | None, Query(alias="from", description="ISO 8601 (alone: from then to now)")
    ] = None,
    end: Annotated[
        datetime | None,
        Query(alias="to", description="ISO 8601, exclusive (alone: from the start of its month)"),
    ] = None,
    by: Literal["model", "project", "product", "day", "job"] = "model",
    tenant: TenantQuery = None,
) -> dict[str, Any]:
    if by == "job":  # from the cluster's job accounting (Slurm's sacct), through the control plane
        doc = JobUsageOut.model_validate(
            job_usage(request.app.state.services.control, caller, start, end, tenant)
        )
        return JSONResponse(doc.model_dump(mode="json"))  # type: ignore[return-value]
    return access.usage(billing(request), caller, start=start, end=end, by=by, tenant=tenant)


@router.get(
    "/invoices/preview",
    response_model=InvoicePreviewOut,
    summary="The invoice so far for a month (default: this one); nothing is saved",
)
def preview_invoice(
    svc: Billing,
    caller: Caller,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")] = None,
    tenant: TenantQuery = None,
) -> dict[str, Any]:
    return access.preview(svc, caller, period=period, tenant=tenant)


@router.get("/invoices", response_model=list[InvoiceSummary], summary="Invoices and credit notes")
def list_invoices(svc: Billing, caller: Caller, tenant: TenantQuery = None) -> list[dict[str, Any]]:
    return access.invoices(svc, caller, tenant=tenant)


@router.get(
    "/invoices/{invoice_id}",
    response_model=InvoiceOut,
    summary="One invoice with its lines, credits, tax and total",
)
def get_invoice(svc: Billing, caller: Caller, invoice_id: InvoiceIdPath) -> dict[str, Any]:
    return access.invoice(svc, caller, invoice_id)


@router.get(
    "/invoices/{invoice_id}/download",
    summary="The invoice document, as text/csv or text/html",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "text/html": {}}}},
)
def download_invoice(
    svc: Billing, caller: Caller, invoice_id: InvoiceIdPath, format: Literal["csv", "html"] = "html"
) -> Response:
    media_type, text = access.download(svc, caller, invoice_id, format)
    filename = f"{invoice_id}.{format}"
    return Response(
        text,
        media_type=f"{media_type}; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )

"""The SLA report: availability and credit per allocation over a billing month (docs/health.md, SLA).

Tenant roles see their own tenant's allocations (naming another tenant answers like a missing one);
operators see every tenant's, or the one `tenant=` names (by id or name)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from neocloud.api.deps import Caller, Health
from neocloud.billing.app.service import BillingService
from neocloud.kernel.ids import TenantId
from neocloud.kernel.periods import Period
from neocloud.wire.sla import SlaReportOut
from neocloud.wire.sla_report import report_out

router = APIRouter(tags=["sla"])
PeriodQuery = Annotated[
    str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (default: this month)")
]
TenantQuery = Annotated[
    str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="operators: one tenant (id or name)")
]


@router.get("/sla", response_model=SlaReportOut, summary="Availability and SLA credit per allocation")
def sla_report(
    request: Request, hs: Health, caller: Caller, period: PeriodQuery = None, tenant: TenantQuery = None
) -> SlaReportOut:
    span = Period.parse_month(period) if period else Period.month_of(hs.now())
    billing: BillingService | None = getattr(request.app.state.services, "billing", None)
    asked: TenantId | None = None
    if tenant is not None:
        if caller.tenant_id is not None:
            caller.visible(tenant, "tenant", tenant)
            asked = caller.tenant_id
        elif billing is not None and billing.directory is not None:
            asked = billing.tenant_id(tenant)  # by id or name; NotFound naming it
        else:
            asked = TenantId(tenant)  # no tenant directory to resolve names: an id
    found = hs.sla.report(caller, span, asked)
    names = billing.tenant_names({x.tenant for x in found.lines}) if billing is not None else {}
    return report_out(found, span.label(), names)

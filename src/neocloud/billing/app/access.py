"""Billing as a caller sees it: who may read which tenant's usage and invoices, and the views returned.

Tenant tokens see their own tenant; operators and fleet-wide viewers see every tenant and name the one
they ask about (by id or name). An invoice of another tenant is NotFound, worded like a missing one.
Documents name the tenant (and, by project, the projects) beside the ids; a tenant's documents only ever
carry its own names.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from neocloud.billing.app.service import BillingService
from neocloud.billing.app.views import invoice_summary, invoice_view, preview_view, usage_view
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.ids import TenantId
from neocloud.kernel.periods import Period


def _tenant(service: BillingService, principal: Principal, asked: str | None) -> TenantId:
    if principal.tenant_id is not None:
        if asked is not None and asked != principal.tenant_id:
            principal.visible(asked, "tenant", asked)
        return principal.tenant_id
    if asked is None:
        raise InvalidInput("tenant: operators name the tenant (?tenant=…)", details={"field": "tenant"})
    return service.tenant_id(asked) if service.directory is not None else TenantId(asked)


def _period(service: BillingService, start: datetime | None, end: datetime | None) -> Period:
    """The usage window: both given; `from` alone runs to now; `to` alone starts at the beginning of its
    month; neither is this month so far. (Every combination the schema allows is answered.)"""
    if start is None and end is None:
        return Period.month_of(service.clock.now())
    if end is None:
        assert start is not None
        end = max(service.clock.now(), start + timedelta(seconds=1))
    if start is None:
        start = Period.month_of(end - timedelta(seconds=1)).start  # the month of the window's last second
    if end <= start:
        raise InvalidInput("to: must be after from", details={"field": "to"})
    return Period(start.replace(microsecond=0), end.replace(microsecond=0))


def usage(
    service: BillingService,
    principal: Principal,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    by: str = "model",
    tenant: str | None = None,
) -> dict[str, Any]:
    """Metered usage (ledger and the part not settled yet) of the caller's tenant, grouped `by`."""
    who = _tenant(service, principal, tenant)
    span = _period(service, start, end)
    names = service.project_names(who) if by == "project" else None
    return {
        "tenant": who,
        "tenant_name": service.tenant_name(who),
        **usage_view(service.live_usage(who, span, by), by, span.label(), names),
    }


def preview(
    service: BillingService, principal: Principal, *, period: str | None = None, tenant: str | None = None
) -> dict[str, Any]:
    span = Period.parse_month(period) if period else None
    who = _tenant(service, principal, tenant)
    return preview_view(service.preview(who, span), service.tenant_name(who))


def invoices(
    service: BillingService, principal: Principal, *, tenant: str | None = None
) -> list[dict[str, Any]]:
    if principal.tenant_id is None and tenant is None:
        found = service.invoices()
    else:
        found = service.invoices(_tenant(service, principal, tenant))
    names = service.tenant_names(i.tenant_id for i in found)
    return [invoice_summary(i, names.get(i.tenant_id)) for i in found]


def invoice(service: BillingService, principal: Principal, invoice_id: str) -> dict[str, Any]:
    found = service.invoice(invoice_id)
    principal.visible(found.tenant_id, "invoice", invoice_id)
    return invoice_view(found, service.tenant_name(found.tenant_id))


def download(service: BillingService, principal: Principal, invoice_id: str, fmt: str) -> tuple[str, str]:
    found = service.invoice(invoice_id)
    principal.visible(found.tenant_id, "invoice", invoice_id)
    return service.download(invoice_id, fmt)

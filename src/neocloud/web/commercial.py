"""The operator's commercial pages: tenants (create, suspend, resume), quotas and prices."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from fastapi.responses import HTMLResponse

from neocloud.kernel.errors import DomainError, InvalidInput, NotFound
from neocloud.kernel.gpus import CATALOG
from neocloud.kernel.products import Product
from neocloud.web.context import Form, SignedIn, form_instant
from neocloud.web.fleetmap import require_fleet_view
from neocloud.web.operator import PREFIX, ops
from neocloud.web.render import ConsoleRoute, page, redirect
from neocloud.web.tenant import IDENT, every

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
TenantIdPath = Annotated[str, Path(pattern=IDENT)]


@router.get("/tenants", response_class=HTMLResponse)
def tenants(who: SignedIn) -> Response:
    require_fleet_view(who.principal)
    found = every(lambda p: who.control.tenancy.list_tenants(who.principal, p))
    quotas = who.control.tenancy.list_quotas(who.principal)
    names = {t.id: t.name for t in found}
    by_tenant: dict[str, list[Any]] = defaultdict(list)
    for q in quotas:
        by_tenant[q.tenant_id].append(q)
    return page(
        "console/tenants.html",
        ops(who, "tenants", tenants=found, quotas=by_tenant, names=names, models=sorted(CATALOG)),
    )


@router.post("/tenants")
def create_tenant(who: SignedIn, fields: Form) -> Response:
    try:
        made = who.control.tenancy.create_tenant(fields.get("name", "").strip(), principal=who.principal)
        who.flash(f"tenant {made.name} created")
    except DomainError as exc:
        who.flash(f"could not create the tenant: {exc.message}")
    return redirect("/operator/tenants")


@router.post("/tenants/{tenant_id}/{action}")
def tenant_action(
    who: SignedIn,
    fields: Form,
    tenant_id: TenantIdPath,
    action: Annotated[str, Path(pattern="^(suspend|resume)$")],
) -> Response:
    try:
        if action == "suspend":
            done = who.control.tenancy.suspend_tenant(tenant_id, principal=who.principal)
        else:
            done = who.control.tenancy.resume_tenant(tenant_id, principal=who.principal)
        who.flash(f"tenant {done.name} {action}d")
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        who.flash(f"could not {action}: {exc.message}")
    return redirect("/operator/tenants")


@router.post("/quotas")
def set_quota(who: SignedIn, fields: Form) -> Response:
    try:
        raw = fields.get("gpus", "").strip()
        if not raw.isdigit():
            raise InvalidInput("gpus: a whole number is needed")
        q = who.control.tenancy.set_quota(
            who.principal,
            fields.get("tenant", ""),
            fields.get("model", ""),
            int(raw),
            fields.get("project") or None,
        )
        who.flash(f"quota of {q.tenant_id}: {q.gpus} {q.model}")
    except DomainError as exc:
        who.flash(f"could not set the quota: {exc.message}")
    return redirect("/operator/tenants")


@router.get("/prices", response_class=HTMLResponse)
def prices(who: SignedIn) -> Response:
    require_fleet_view(who.principal)
    periods = sorted(
        who.billing.prices(),
        key=lambda p: (p.key.model, p.key.product.value, p.key.term_months or 0, p.key.tenant or "", p.start),
    )
    names = who.billing.tenant_names(p.key.tenant for p in periods if p.key.tenant)
    return page(
        "console/prices.html",
        ops(
            who,
            "prices",
            periods=periods,
            names=names,
            models=sorted(CATALOG),
            products=[p.value for p in Product],
        ),
    )


@router.post("/prices")
def set_price(who: SignedIn, fields: Form) -> Response:
    try:
        who.principal.require_operator("setting a price")
        start = form_instant(fields, "from")
        term = fields.get("term_months", "").strip()
        if term and not term.isdigit():
            raise InvalidInput("term_months: a whole number of months", details={"field": "term_months"})
        done = who.billing.set_price(
            model=fields.get("model", ""),
            product=fields.get("product", ""),
            price=fields.get("price", "").strip(),
            currency=fields.get("currency", "").strip() or "USD",
            term_months=int(term) if term.isdigit() else None,
            effective_from=start,
            tenant=fields.get("tenant") or None,
            actor=who.principal.actor,
        )
        who.flash(
            f"price {done.key.model} {done.key.product.value}: {done.per_gpu_hour} {done.currency}/GPU-h"
        )
    except DomainError as exc:
        who.flash(f"could not set the price: {exc.message}")
    return redirect("/operator/prices")

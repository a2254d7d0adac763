"""The tenant's money and keys: usage charts, invoices and credit notes with SLA attainment, tokens.
Every page calls billing's and the control plane's use cases with the session's principal (operators
name the tenant, as on the API)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from neocloud.billing.app import access
from neocloud.control.domain.tenancy import Role
from neocloud.kernel.errors import DomainError, InvalidInput, NotFound, Unavailable
from neocloud.kernel.periods import Period
from neocloud.web import charts
from neocloud.web.context import Form, SignedIn, Viewer
from neocloud.web.render import ConsoleRoute, page, redirect
from neocloud.web.tenant import ObjectId, base, every, int_field, project_names

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def _hours(item: dict[str, Any]) -> Decimal:
    return Decimal(str(item.get("gpu_hours", "0")))


def _month(period: str | None, now: datetime) -> Period:
    if period:
        try:
            return Period.parse_month(period)
        except DomainError:
            raise InvalidInput("period: YYYY-MM", details={"field": "period"}) from None
    return Period.month_of(now)


@router.get("/usage", response_class=HTMLResponse)
def usage(
    who: SignedIn,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    tenant: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = None,
) -> Response:
    if who.principal.tenant_id is not None:
        tenant = None
    elif tenant is None:
        raise InvalidInput("operators name the tenant: /usage?tenant=NAME")
    now = who.control.deps.clock.now()
    month = _month(period, now)
    end = min(month.end, max(now, month.start + timedelta(seconds=1)))
    svc = who.billing
    views: dict[str, dict[str, Any]] = {}
    for by in ("day", "model", "project"):
        views[by] = access.usage(svc, who.principal, start=month.start, end=end, by=by, tenant=tenant)
    jobs = _jobs(who, month.start, end, tenant)
    days = [
        (month.start + timedelta(days=d)).strftime("%Y-%m-%d") for d in range((month.end - month.start).days)
    ]
    by_day = {it.get("day", ""): _hours(it) for it in views["day"]["items"]}
    preview = access.preview(svc, who.principal, period=month.label(), tenant=tenant)
    cost = [(f"{ln['product']} {ln['model']}", Decimal(ln["amount"])) for ln in preview["lines"]]
    return page(
        "console/usage.html",
        base(
            who,
            "usage",
            period=month.label(),
            views=views,
            preview=preview,
            day_chart=charts.columns(
                {"GPU-hours": [by_day.get(d, Decimal(0)) for d in days]},
                [d[5:] for d in days],
                title=f"GPU-hours by day, {month.label()}",
                unit="GPU-h",
                chart_id="usage-day",
            ),
            model_chart=charts.bars(
                [(it.get("model", "?"), _hours(it)) for it in views["model"]["items"]],
                title="GPU-hours by model",
                unit="GPU-h",
                chart_id="usage-model",
            ),
            project_chart=charts.bars(
                [
                    (it.get("project_name") or it.get("project", "?"), _hours(it))
                    for it in views["project"]["items"]
                ],
                title="GPU-hours by project",
                unit="GPU-h",
                chart_id="usage-project",
            ),
            product_chart=charts.bars(
                _by_product(preview["lines"]),
                title="GPU-hours by product",
                unit="GPU-h",
                chart_id="usage-product",
            ),
            cost_chart=charts.bars(
                cost,
                title=f"Cost by product and model ({preview['currency']})",
                unit=preview["currency"],
                chart_id="usage-cost",
            ),
            job_chart=(
                charts.bars(jobs, title="GPU-hours by Slurm job (top 20)", unit="GPU-h", chart_id="usage-job")
                if jobs is not None
                else None
            ),
            months=_recent_months(now),
        ),
    )


def _jobs(
    who: Viewer, start: datetime, end: datetime, tenant: str | None
) -> list[tuple[str, Decimal]] | None:
    """GPU-hours by Slurm job (the control plane's job accounting, `control.jobs`, where the Slurm
    provisioner provides it; None without it), the 20 largest."""
    if who.control.deps.jobs is None:  # no cluster behind this control plane (the fake provisioner)
        return None
    try:
        _, jobs = who.control.jobs.usage(who.principal, start, end, tenant)
    except Unavailable:  # the cluster does not answer now: the page shows the rest
        return None
    rows = [(f"{j.job_id} {j.name}".strip(), Decimal(str(j.gpu_seconds)) / 3600) for j in jobs]
    rows.sort(key=lambda r: r[1], reverse=True)
    return [(label, hours.quantize(Decimal("0.01"))) for label, hours in rows[:20]]


def _by_product(lines: list[dict[str, Any]]) -> list[tuple[str, Decimal]]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[line["product"]] += Decimal(str(line["gpu_hours"]))
    return sorted(sums.items())


def _recent_months(now: datetime, count: int = 6) -> list[str]:
    out, at = [], Period.month_of(now)
    for _ in range(count):
        out.append(at.label())
        at = Period.month_of(at.start - timedelta(seconds=1))
    return out


@router.get("/invoices", response_class=HTMLResponse)
def invoices(who: SignedIn) -> Response:
    found = access.invoices(who.billing, who.principal)
    found.sort(key=lambda i: (i["period"], i["id"]), reverse=True)
    preview = None
    if who.principal.tenant_id is not None:
        preview = access.preview(who.billing, who.principal)
    return page(
        "console/invoices.html", base(who, "invoices", invoices=found, preview=preview, sla=_sla(who))
    )


def _sla(who: Viewer) -> list[Any]:
    """SLA attainment per allocation this month and last (the health context's report), when the server
    has the health context: a tenant sees its own allocations only."""
    health = getattr(who.services, "health", None)
    if health is None:
        return []
    now = who.control.deps.clock.now()
    this = Period.month_of(now)
    last = Period.month_of(this.start - timedelta(seconds=1))
    out = []
    for period in (this, last):
        report = health.sla.report(who.principal, period)
        out.append((period.label(), report))
    return out


@router.get("/invoices/{invoice_id}", response_class=HTMLResponse)
def invoice(who: SignedIn, invoice_id: ObjectId) -> Response:
    found = access.invoice(who.billing, who.principal, invoice_id)
    return page("console/invoice.html", base(who, "invoices", inv=found))


@router.get("/invoices/{invoice_id}/download")
def download(
    who: SignedIn, invoice_id: ObjectId, format: Annotated[str, Query(pattern="^(csv|html)$")] = "html"
) -> Response:
    media_type, text = access.download(who.billing, who.principal, invoice_id, format)
    return Response(
        text,
        media_type=f"{media_type}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{invoice_id}.{format}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


ROLES = (Role.TENANT_MEMBER, Role.VIEWER)


@router.get("/tokens", response_class=HTMLResponse)
def tokens(who: SignedIn) -> Response:
    return _tokens_page(who)


def _tokens_page(who: Viewer, *, created: Any = None, secret: str | None = None) -> Response:
    error = None
    found: list[Any] = []
    try:
        found = every(lambda p: who.control.tenancy.list_tokens(who.principal, p))
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        error = exc.message
    found.sort(key=lambda t: (t.revoked_at is not None, t.created_at), reverse=False)
    roles = [r.value for r in ROLES] if who.principal.tenant_id else [r.value for r in Role]
    names = project_names(who) if who.principal.tenant_id else {}
    return page(
        "console/tokens.html",
        base(
            who, "tokens", tokens=found, error=error, roles=roles, created=created, secret=secret, names=names
        ),
    )


@router.post("/tokens", response_class=HTMLResponse)
def create_token(who: SignedIn, fields: Form) -> Response:
    expires_at = None
    try:
        days = fields.get("expires_days", "").strip()
        if days:
            expires_at = who.control.deps.clock.now() + timedelta(
                days=int_field(fields, "expires_days", 1, 3660)
            )
        tenant = who.tenant_name if who.principal.tenant_id else (fields.get("tenant") or None)
        view, secret = who.control.tenancy.create_token(
            tenant,
            Role.parse(fields.get("role", "")),
            fields.get("project") or None,
            principal=who.principal,
            expires_at=expires_at,
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        who.flash(f"could not create the token: {exc.message}")
        return redirect("/tokens")
    return _tokens_page(who, created=view, secret=secret)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, who: SignedIn, fields: Form, token_id: ObjectId) -> Response:
    try:
        done = who.control.tenancy.revoke_token(who.principal, token_id)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        who.flash(f"could not revoke: {exc.message}")
        return redirect("/tokens")
    who.control.sessions.close_token(done.id)  # its sessions end now, on every server
    if done.id == who.principal.token_id:
        return redirect("/signin")
    who.flash(f"token {done.prefix}… revoked")
    return redirect("/tokens")

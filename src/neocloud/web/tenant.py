"""The tenant's capacity pages: overview, reservations (Gantt, quote, reserve, cancel, extend) and
instances (web/account.py has usage, invoices and tokens). Every page calls the control plane's and
billing's use cases with the session's principal, so what a tenant sees and may do is exactly what the
API lets its token see and do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Response
from fastapi.responses import HTMLResponse

from neocloud.billing.app import access
from neocloud.control.app.views import (
    InstanceRequest,
    InstanceView,
    Page,
    PageRequest,
    ReservationRequest,
    ReservationView,
)
from neocloud.kernel.errors import DomainError, InvalidInput, NotFound
from neocloud.kernel.gpus import CATALOG
from neocloud.kernel.products import State
from neocloud.web import charts
from neocloud.web.context import Form, SignedIn, Viewer, form_instant
from neocloud.web.render import ConsoleRoute, page, redirect
from neocloud.wire.errors import status_for

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

IDENT = r"^[A-Za-z0-9_.:-]{1,200}$"
ObjectId = Annotated[str, Path(pattern=IDENT)]
LIVE = ("requested", "scheduled", "provisioning", "active", "ending")
HOLDING = ("provisioning", "active", "ending")
SHAPES = ("any", "whole-nodes", "whole-nvl72", "one-fabric")
MAX_ITEMS = 5_000
T = TypeVar("T")


def every(list_page: Callable[[PageRequest], Page[T]], limit: int = MAX_ITEMS) -> list[T]:
    """Follow a paged use case's cursors (at most `limit` items)."""
    out: list[T] = []
    cursor: str | None = None
    while len(out) < limit:
        got = list_page(PageRequest(limit=500, cursor=cursor))
        out.extend(got.items)
        cursor = got.next_cursor
        if cursor is None:
            break
    return out


def base(who: Viewer, active: str, **extra: Any) -> dict[str, Any]:
    return {
        "viewer": who,
        "active": active,
        "flash": who.take_flash(),
        "now": who.control.deps.clock.now(),
        **extra,
    }


def _tenant_only(who: Viewer) -> None:
    if who.principal.tenant_id is None:
        raise NotFound("this page is a tenant's: operators see the fleet pages")


def _models(who: Viewer) -> list[str]:
    """Models of the fleet the tenant has a quota for (no quota row: every model of the fleet)."""
    fleet = who.fleet_models() or set(CATALOG)
    quotas = who.control.tenancy.list_quotas(who.principal)
    if not quotas:
        return sorted(fleet)
    return sorted({q.model for q in quotas if q.gpus > 0} & fleet) or sorted(fleet)


def project_names(who: Viewer) -> dict[str, str]:
    return {p.id: p.name for p in every(lambda p: who.control.tenancy.list_projects(who.principal, p))}


@router.get("/", response_class=HTMLResponse)
def overview(who: SignedIn) -> Response:
    if who.is_operator_view:
        return redirect("/operator/fleet")
    now = who.control.deps.clock.now()
    # what the overview shows is live or failed: the rest of the history is on its own pages
    shown = [State(x) for x in (*LIVE, "failed")]
    reservations = every(lambda p: who.control.reservations.list_reservations(who.principal, p, states=shown))
    instances = every(lambda p: who.control.instances.list_instances(who.principal, p, states=shown))
    held: dict[tuple[str, str], int] = defaultdict(int)
    for r in reservations:
        if r.state in HOLDING:
            held[(r.model, "reserved")] += r.gpus
    for i in instances:
        if i.state in HOLDING:
            held[(i.model, "spot" if i.spot else "on-demand")] += i.gpus
    issues: list[str] = []
    for i in instances:
        if i.notice_until is not None and i.state in LIVE:
            issues.append(
                f"spot instance {i.id} is being preempted: its nodes go at {i.notice_until:%H:%M:%S} UTC"
            )
        if i.state == "failed":
            issues.append(f"instance {i.id} failed")
    for r in reservations:
        if r.state == "failed":
            issues.append(f"reservation {r.id} failed to start")
    spend = None
    try:
        spend = access.preview(who.billing, who.principal)
    except DomainError:
        spend = None
    upcoming = sorted(
        (r for r in reservations if r.state in ("scheduled", "requested")), key=lambda r: r.start
    )[:5]
    return page(
        "console/overview.html",
        base(
            who,
            "overview",
            held=sorted(held.items()),
            held_chart=charts.bars(
                [(f"{m} {p}", g) for (m, p), g in sorted(held.items())],
                title="GPUs held now",
                unit="GPUs",
                chart_id="held",
            ),
            spend=spend,
            issues=issues,
            upcoming=upcoming,
            running=[i for i in instances if i.state in HOLDING],
            now=now,
        ),
    )


def _gantt(who: Viewer, reservations: list[ReservationView], names: dict[str, str], now: datetime) -> Any:
    shown = [r for r in reservations if r.state not in ("cancelled",)]
    start = now - timedelta(days=2)
    ends = [r.end for r in shown if r.end > start]
    end = min(max([now + timedelta(days=7), *ends]) + timedelta(hours=12), now + timedelta(days=60))
    bars = [
        charts.Bar(
            row=f"{r.model} / {names.get(r.project_id, r.project_id)}",
            start=r.start,
            end=r.end,
            label=f"{r.id}: {r.gpus} {r.model} ({r.shape}) {r.start:%m-%d %H:%M}–{r.end:%m-%d %H:%M} UTC, {r.state}",
            href=f"/reservations/{r.id}",
            state=r.state,
            ident=r.id,
        )
        for r in shown
        if r.end > start and r.start < end
    ]
    return charts.gantt(bars, start=start, end=end, now=now)


def _reservations_page(
    who: Viewer,
    *,
    quote: Any = None,
    asked: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    _tenant_only(who)
    now = who.control.deps.clock.now()
    reservations = every(lambda p: who.control.reservations.list_reservations(who.principal, p))
    names = project_names(who)
    reservations.sort(key=lambda r: (r.start, r.id), reverse=True)
    return page(
        "console/reservations.html",
        base(
            who,
            "reservations",
            reservations=reservations,
            gantt=_gantt(who, reservations, names, now),
            names=names,
            models=_models(who),
            shapes=SHAPES,
            quote=quote,
            asked=asked or {},
            error=error,
            live=LIVE,
        ),
        status,
    )


@router.get("/reservations", response_class=HTMLResponse)
def reservations(who: SignedIn) -> Response:
    return _reservations_page(who)


def int_field(fields: dict[str, str], name: str, low: int, high: int) -> int:
    raw = fields.get(name, "").strip()
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name}: a whole number is needed", details={"field": name}) from None
    if not low <= value <= high:
        raise InvalidInput(f"{name}: must be in {low}..{high}", details={"field": name})
    return value


def _start(fields: dict[str, str]) -> datetime | None:
    return form_instant(fields, "start")


def _request(fields: dict[str, str]) -> ReservationRequest:
    shape = fields.get("shape", "any")
    if shape not in SHAPES:
        raise InvalidInput(f"shape: one of {', '.join(SHAPES)}", details={"field": "shape"})
    return ReservationRequest(
        model=fields.get("model", ""),
        gpus=int_field(fields, "gpus", 1, 1_000_000),
        hours=int_field(fields, "hours", 1, 24 * 366),
        start=_start(fields),
        shape=shape,
        project=fields.get("project") or None,
    )


@router.post("/reservations/quote", response_class=HTMLResponse)
def quote(who: SignedIn, fields: Form) -> Response:
    _tenant_only(who)
    try:
        found = who.control.reservations.quote(who.principal, _request(fields))
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return _reservations_page(who, asked=fields, error=exc.message, status=status_for(exc))
    return _reservations_page(who, quote=found, asked=fields)


@router.post("/reservations", response_class=HTMLResponse)
def reserve(who: SignedIn, fields: Form) -> Response:
    _tenant_only(who)
    try:
        made = who.control.reservations.reserve(who.principal, _request(fields), fields.get("key") or None)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        reasons = exc.details.get("reasons") if isinstance(exc.details, dict) else None
        message = exc.message + (
            f" ({_reason_text(reasons)})" if isinstance(reasons, dict) and reasons else ""
        )
        return _reservations_page(who, asked=fields, error=message, status=status_for(exc))
    who.flash(f"reserved {made.gpus} {made.model} from {made.start:%Y-%m-%d %H:%M} UTC: {made.id}")
    return redirect(f"/reservations/{made.id}")


def _reason_text(reasons: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in reasons.items())


@router.get("/reservations/{reservation_id}", response_class=HTMLResponse)
def reservation(who: SignedIn, reservation_id: ObjectId) -> Response:
    found = who.control.reservations.get_reservation(who.principal, reservation_id)
    events = who.control.allocations.list_events(who.principal, reservation_id)
    names = project_names(who) if who.principal.tenant_id else {}
    return page(
        "console/reservation.html",
        base(who, "reservations", r=found, events=events, names=names, live=LIVE),
    )


@router.post("/reservations/{reservation_id}/cancel")
def cancel(who: SignedIn, fields: Form, reservation_id: ObjectId) -> Response:
    try:
        done = who.control.reservations.cancel_reservation(who.principal, reservation_id)
        who.flash(f"reservation {done.id} is {done.state}")
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        who.flash(f"could not cancel: {exc.message}")
    return redirect(f"/reservations/{reservation_id}")


@router.post("/reservations/{reservation_id}/extend")
def extend(who: SignedIn, fields: Form, reservation_id: ObjectId) -> Response:
    try:
        hours = int_field(fields, "hours", 1, 24 * 366)
        done = who.control.reservations.extend_reservation(who.principal, reservation_id, hours)
        who.flash(f"reservation {done.id} now ends {done.end:%Y-%m-%d %H:%M} UTC")
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        who.flash(f"could not extend: {exc.message}")
    return redirect(f"/reservations/{reservation_id}")


@router.get("/instances", response_class=HTMLResponse)
def instances(who: SignedIn) -> Response:
    _tenant_only(who)
    found = every(lambda p: who.control.instances.list_instances(who.principal, p))
    found.sort(key=lambda i: (i.state not in LIVE, i.created_at), reverse=False)
    return page(
        "console/instances.html",
        base(who, "instances", instances=found, models=_models(who), names=project_names(who), live=LIVE),
    )


@router.post("/instances")
def create_instance(who: SignedIn, fields: Form) -> Response:
    _tenant_only(who)
    try:
        request = InstanceRequest(
            model=fields.get("model", ""),
            nodes=int_field(fields, "nodes", 1, 10_000),
            spot=fields.get("spot") == "on",
            project=fields.get("project") or None,
        )
        made: InstanceView = who.control.instances.create_instance(
            who.principal, request, fields.get("key") or None
        )
        who.flash(
            f"started {'spot' if made.spot else 'on-demand'} instance {made.id} ({made.gpus} {made.model})"
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        who.flash(f"could not start the instance: {exc.message}")
    return redirect("/instances")


@router.post("/instances/{instance_id}/stop")
def stop_instance(who: SignedIn, fields: Form, instance_id: ObjectId) -> Response:
    try:
        done = who.control.instances.stop_instance(who.principal, instance_id)
        who.flash(f"instance {done.id} is {done.state}")
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        who.flash(f"could not stop: {exc.message}")
    return redirect("/instances")

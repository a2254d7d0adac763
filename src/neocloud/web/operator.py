"""The operator's pages: the fleet map, nodes (with lifecycle actions), tenants and quotas, prices,
revenue (by month, product, model, tenant, and per MW of IT power) and utilisation over time.

Reads are for operators and fleet-wide viewers (anyone else gets the 404 of a missing page); every
change goes through a use case that checks the operator role itself.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse

from neocloud.control.app.views import NodeView
from neocloud.health.app.service import HealthService
from neocloud.kernel.errors import DomainError, InvalidInput, NotFound
from neocloud.kernel.gpus import CATALOG
from neocloud.kernel.ids import NodeId
from neocloud.kernel.products import Product
from neocloud.web import charts
from neocloud.web.context import Form, SignedIn, Viewer
from neocloud.web.fleetmap import (
    BASE_STATES,
    fleet_state,
    holdings,
    node_set_version,
    require_fleet_view,
    topology,
)
from neocloud.web.render import ConsoleRoute, page, redirect
from neocloud.web.tenant import IDENT, base, every

router = APIRouter(prefix="/operator", route_class=ConsoleRoute, include_in_schema=False)
NodeIdPath = Annotated[str, Path(pattern=IDENT)]
NODE_ACTIONS = ("cordon", "drain", "return")
NODES_PER_PAGE = 200


def _lifecycle(who: Viewer) -> HealthService | None:
    """The health context's service (node lifecycle, events, SLA), when the server has one."""
    found: HealthService | None = getattr(who.services, "health", None)
    return found


def _ops(who: Viewer, active: str, **extra: Any) -> dict[str, Any]:
    require_fleet_view(who.principal)
    return base(who, active, lifecycle=_lifecycle(who) is not None, **extra)


@router.get("", response_class=HTMLResponse)
def home(who: SignedIn) -> Response:
    require_fleet_view(who.principal)
    return redirect("/operator/fleet")


@router.get("/fleet", response_class=HTMLResponse)
def fleet(who: SignedIn, node: Annotated[str | None, Query(pattern=IDENT)] = None) -> Response:
    require_fleet_view(who.principal)
    version = node_set_version(who.control, who.cache)
    ctx = _ops(who, "fleet", selected=node or "", states=BASE_STATES, actions=NODE_ACTIONS, version=version)
    return page("console/fleet.html", ctx)


@router.get("/fleet/topology.json")
def fleet_topology(
    who: SignedIn, v: Annotated[str | None, Query(pattern=r"^[0-9a-f]{16}$")] = None
) -> Response:
    """Where every tray is. Its URL names the node set's version, so the browser keeps it (privately)
    until a node is added; the live states come from state.json."""
    require_fleet_view(who.principal)
    topo = topology(who.control, who.cache)
    cached = v == topo.version
    body = who.cache.get("topology-json") if who.cache is not None else None
    if not (isinstance(body, tuple) and body[0] == topo.version):
        body = (topo.version, json.dumps(topo.document, separators=(",", ":")))
        if who.cache is not None:
            who.cache["topology-json"] = body
    return Response(
        body[1],
        media_type="application/json",
        headers={
            "Cache-Control": "private, max-age=86400, immutable" if cached else "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/fleet/state.json")
def fleet_state_json(who: SignedIn) -> Response:
    data = fleet_state(who.control, who.principal, who.cache)
    return Response(
        json.dumps(data, separators=(",", ":")),
        media_type="application/json",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/nodes", response_class=HTMLResponse)
def nodes(
    who: SignedIn,
    state: Annotated[str | None, Query(pattern=r"^[a-z-]{1,32}$")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(pattern=IDENT)] = None,
) -> Response:
    require_fleet_view(who.principal)
    all_nodes, node_states, held, _ = holdings(who.control, who.cache)
    rows = []
    counts: dict[str, int] = defaultdict(int)
    for n in all_nodes:
        h = held.get(n.id)
        st = node_states.get(n.id) or "ready"
        counts[st] += 1
        if state and st != state:
            continue
        if q and q not in n.id:
            continue
        if cursor and n.id <= cursor:
            continue
        rows.append((n, st, h))
        if len(rows) > NODES_PER_PAGE:
            break
    more = len(rows) > NODES_PER_PAGE
    rows = rows[:NODES_PER_PAGE]
    return page(
        "console/nodes.html",
        _ops(
            who,
            "nodes",
            rows=rows,
            counts=sorted(counts.items()),
            state=state or "",
            q=q or "",
            next_cursor=rows[-1][0].id if more else None,
            actions=NODE_ACTIONS,
        ),
    )


def _node(who: Viewer, node_id: str) -> tuple[NodeView, Any]:
    require_fleet_view(who.principal)
    found = topology(who.control, who.cache).by_id.get(node_id)
    if found is None:
        raise NotFound(f"node {node_id!r} not found")
    _, node_states, held, _ = holdings(who.control, who.cache, only=found)
    view = NodeView(
        found.id, found.model, found.gpus, found.path_text(), node_states.get(found.id, "ready"), []
    )
    return view, held.get(found.id)


@router.get("/nodes/{node_id}", response_class=HTMLResponse)
def node(who: SignedIn, node_id: NodeIdPath) -> Response:
    view, h = _node(who, node_id)
    events: list[Any] = []
    health = None
    lifecycle = _lifecycle(who)
    if lifecycle is not None and who.principal.is_operator:
        health = lifecycle.node(who.principal, NodeId(node_id))
        events = lifecycle.events(who.principal, NodeId(node_id), 50)
    return page(
        "console/node.html",
        _ops(who, "nodes", node=view, held=h, events=events, health=health, actions=NODE_ACTIONS),
    )


@router.post("/nodes/{node_id}/{action}")
def node_action(
    who: SignedIn,
    fields: Form,
    node_id: NodeIdPath,
    action: Annotated[str, Path(pattern="^(cordon|drain|return)$")],
) -> Response:
    view, _ = _node(who, node_id)
    back = fields.get("next") or f"/operator/nodes/{node_id}"
    if not back.startswith("/operator/") or back.startswith("//"):
        back = f"/operator/nodes/{node_id}"
    lifecycle = _lifecycle(who)
    if lifecycle is None:
        who.flash("node lifecycle (cordon, drain, return) needs the health context, which this server lacks")
        return redirect(back)
    reason = fields.get("reason", "").strip()[:200] or f"from the console by {who.principal.token_id}"
    try:
        node_ = NodeId(node_id)
        if action == "cordon":
            done = lifecycle.cordon(who.principal, node_, reason)
        elif action == "drain":
            done = lifecycle.drain(who.principal, node_, reason)
        else:
            done = lifecycle.return_(who.principal, node_, reason)
        who.flash(f"{action}: node {view.id} is {done.state.value}")
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        who.flash(f"could not {action} {view.id}: {exc.message}")
    return redirect(back)


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
        _ops(who, "tenants", tenants=found, quotas=by_tenant, names=names, models=sorted(CATALOG)),
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
    tenant_id: NodeIdPath,
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
        _ops(
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
        start = None
        if fields.get("from", "").strip():
            try:
                start = datetime.fromisoformat(fields["from"].strip()).replace(tzinfo=UTC)
            except ValueError:
                raise InvalidInput("from: a date (UTC)") from None
        term = fields.get("term_months", "").strip()
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


def _amounts(rows: list[dict[str, str]], key: str, label: Any = None) -> list[tuple[str, Decimal]]:
    return [
        (
            (label(r) if label else r[key]) + (f" ({r['currency']})" if r["currency"] != "USD" else ""),
            Decimal(r["amount"]),
        )
        for r in rows
    ]


@router.get("/revenue", response_class=HTMLResponse)
def revenue(who: SignedIn) -> Response:
    require_fleet_view(who.principal)
    svc = who.billing
    months = svc.revenue("month")
    by_product = svc.revenue("product")
    by_model = svc.revenue("model")
    by_tenant = svc.revenue("tenant")
    mw = float(topology(who.control, who.cache).document["it_kw"]) / 1000
    per_mw = [
        (r["month"], (Decimal(r["amount"]) / Decimal(str(mw))).quantize(Decimal("0.01")))
        for r in months
        if mw > 0
    ]
    return page(
        "console/revenue.html",
        _ops(
            who,
            "revenue",
            it_mw=mw,
            rows={"month": months, "product": by_product, "model": by_model, "tenant": by_tenant},
            month_chart=charts.bars(
                _amounts(months, "month"), title="Revenue by month", unit="USD", chart_id="revenue-month"
            ),
            product_chart=charts.bars(
                _amounts(by_product, "product"),
                title="Revenue by product",
                unit="USD",
                chart_id="revenue-product",
            ),
            model_chart=charts.bars(
                _amounts(by_model, "model"), title="Revenue by model", unit="USD", chart_id="revenue-model"
            ),
            tenant_chart=charts.bars(
                _amounts(by_tenant, "tenant", lambda r: r.get("tenant_name") or r["tenant"]),
                title="Revenue by tenant",
                unit="USD",
                chart_id="revenue-tenant",
            ),
            mw_chart=charts.bars(
                per_mw,
                title=f"Revenue per MW of IT power ({mw:,.2f} MW)",
                unit="USD/MW",
                chart_id="revenue-mw",
            ),
        ),
    )


@router.get("/utilisation", response_class=HTMLResponse)
def utilisation(who: SignedIn, days: Annotated[int, Query(ge=1, le=92)] = 35) -> Response:
    """GPU-hours per day: committed (booked by any product), delivered (metered into the ledger), healthy
    (GPUs on nodes that take work, at today's node states: the health context adds their history)."""
    require_fleet_view(who.principal)
    now = who.control.deps.clock.now()
    end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    start = end - timedelta(days=days)
    labels = [(start + timedelta(days=d)).strftime("%m-%d") for d in range(days)]
    committed = [Decimal(0)] * days
    all_nodes = topology(who.control, who.cache).nodes
    with who.control.deps.uow(read_only=True) as uow:
        node_states = uow.node_states()
        allocs = uow.list_allocations(None, list(Product), None, None, 10**9)[0]
    for a in allocs:
        if a.start >= end or a.state.value in ("cancelled", "requested"):
            continue
        a_end = a.ended_at or a.end or now
        a_end = min(a_end, now) if a.state.value not in ("scheduled",) else a_end
        if a.state.value == "scheduled":
            continue
        lo, hi = max(a.start, start), min(a_end, end)
        while lo < hi:
            d = int((lo - start) // timedelta(days=1))
            nxt = min(hi, start + timedelta(days=d + 1))
            committed[d] += Decimal(a.gpus) * Decimal(int((nxt - lo).total_seconds())) / 3600
            lo = nxt
    delivered = [Decimal(0)] * days
    from neocloud.kernel.periods import Period

    span = Period(start, min(end, max(now, start + timedelta(seconds=1))).replace(microsecond=0))
    for day, milli in who.billing.usage(period=span, by="day").items():  # the ledger, every tenant
        d = (datetime.fromisoformat(day).replace(tzinfo=UTC) - start).days
        if 0 <= d < days:
            delivered[d] += Decimal(milli) / 3_600_000
    healthy_gpus = sum(n.gpus for n in all_nodes if node_states.get(n.id, "ready") in ("ready", "spare"))
    healthy = [Decimal(healthy_gpus * 24)] * days
    series = {
        "committed": [c.quantize(Decimal("0.1")) for c in committed],
        "delivered": [d.quantize(Decimal("0.1")) for d in delivered],
        "healthy": healthy,
    }
    return page(
        "console/utilisation.html",
        _ops(
            who,
            "utilisation",
            chart=charts.columns(
                series, labels, title="GPU-hours per day", unit="GPU-h", lines=True, chart_id="utilisation"
            ),
            total_gpus=sum(n.gpus for n in all_nodes),
            healthy_gpus=healthy_gpus,
            days=days,
            series=series,
            labels=labels,
        ),
    )

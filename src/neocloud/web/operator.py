"""The operator's fleet pages: the fleet map and nodes (with lifecycle actions through the health
context). The operator's other pages: web/commercial.py (tenants, quotas, prices) and web/reports.py
(revenue, utilisation); the shared pieces (`router`'s prefix, `ops`) are here.

Reads are for operators and fleet-wide viewers (anyone else gets the 404 of a missing page); every
change goes through a use case that checks the operator role itself.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse

from neocloud.control.app.views import NodeView
from neocloud.health.app.service import HealthService
from neocloud.kernel.errors import DomainError, NotFound
from neocloud.kernel.ids import NodeId
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
from neocloud.web.tenant import IDENT, base

PREFIX = "/operator"
router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
NodeIdPath = Annotated[str, Path(pattern=IDENT)]
NODE_ACTIONS = ("cordon", "drain", "return")
NODES_PER_PAGE = 200


def _lifecycle(who: Viewer) -> HealthService | None:
    """The health context's service (node lifecycle, events, SLA), when the server has one."""
    found: HealthService | None = getattr(who.services, "health", None)
    return found


def ops(who: Viewer, active: str, **extra: Any) -> dict[str, Any]:
    """The template context of an operator page (404 for anyone without the fleet view)."""
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
    ctx = ops(who, "fleet", selected=node or "", states=BASE_STATES, actions=NODE_ACTIONS, version=version)
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
        ops(
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
        ops(who, "nodes", node=view, held=h, events=events, health=health, actions=NODE_ACTIONS),
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

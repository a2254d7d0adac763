"""The operator's fleet pages: the fleet map and nodes (with lifecycle actions through the health
context). The operator's other pages: web/commercial.py (tenants, quotas, prices) and web/reports.py
(revenue, utilisation); the shared pieces (`router`'s prefix, `ops`) are here.

Reads are for operators and fleet-wide viewers (anyone else gets the 404 of a missing page); every
change goes through a use case that checks the operator role itself.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse

from neocloud.control.app.fleetmap import Holding
from neocloud.control.app.views import NodeView
from neocloud.health.app.service import HealthService
from neocloud.kernel.errors import DomainError, NotFound
from neocloud.kernel.ids import NodeId
from neocloud.web import fleetmap
from neocloud.web.context import Form, SignedIn, Viewer
from neocloud.web.fleetmap import BASE_STATES, require_fleet_view
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
    version = who.control.fleetmap.version()
    ctx = ops(who, "fleet", selected=node or "", states=BASE_STATES, actions=NODE_ACTIONS, version=version)
    return page("console/fleet.html", ctx)


Version = Annotated[str | None, Query(pattern=r"^[0-9a-f]{16}$")]


def _body(content: bytes, media: str, cache: str = "no-store") -> Response:
    return Response(
        content, media_type=media, headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    )


def _immutable(asked: str | None, version: str) -> str:
    """The URL names the node set's version, so the browser keeps it (privately) until a node is added."""
    return "private, max-age=86400, immutable" if asked == version else "no-store"


def topology_packed(who: Viewer) -> tuple[str, bytes]:
    """(version, packed topology) of the current node set, encoded once per version."""
    topo = who.control.fleetmap.topology(who.principal)
    hit = who.cache.get("topology-bin") if who.cache is not None else None
    if isinstance(hit, tuple) and hit[0] == topo.version:
        return hit
    found = (topo.version, fleetmap.pack_topology(topo))
    if who.cache is not None:
        who.cache["topology-bin"] = found
    return found


@router.get("/fleet/topology.bin")
def fleet_topology_packed(who: SignedIn, v: Version = None) -> Response:
    """Where every tray is, packed (web/fleetmap.py); the live states come from state.bin."""
    version, body = topology_packed(who)
    return _body(body, "application/octet-stream", _immutable(v, version))


@router.get("/fleet/state.bin")
def fleet_state_packed(who: SignedIn) -> Response:
    return _body(fleetmap.pack_live(who.control.fleetmap.live(who.principal)), "application/octet-stream")


@router.get("/fleet/topology.json")
def fleet_topology(who: SignedIn, v: Version = None) -> Response:
    """topology.bin's data as JSON (for scripts)."""
    topo = who.control.fleetmap.topology(who.principal)
    body = json.dumps(fleetmap.topology_document(topo), separators=(",", ":")).encode()
    return _body(body, "application/json", _immutable(v, topo.version))


@router.get("/fleet/state.json")
def fleet_state_json(who: SignedIn) -> Response:
    data = fleetmap.live_document(who.control.fleetmap.live(who.principal))
    return _body(json.dumps(data, separators=(",", ":")).encode(), "application/json")


@router.get("/nodes", response_class=HTMLResponse)
def nodes(
    who: SignedIn,
    state: Annotated[str | None, Query(pattern=r"^[a-z-]{1,32}$")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(pattern=IDENT)] = None,
) -> Response:
    rows, counts, next_cursor = who.control.fleetmap.nodes_page(
        who.principal, state, q, cursor, NODES_PER_PAGE
    )
    return page(
        "console/nodes.html",
        ops(
            who,
            "nodes",
            rows=[(view, view.state, h) for view, h in rows],
            counts=sorted(counts.items()),
            state=state or "",
            q=q or "",
            next_cursor=next_cursor,
            actions=NODE_ACTIONS,
        ),
    )


def _node(who: Viewer, node_id: str) -> tuple[NodeView, Holding | None]:
    return who.control.fleetmap.node(who.principal, node_id)


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

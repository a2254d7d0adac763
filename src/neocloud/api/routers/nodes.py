"""Node lifecycle: cordon, uncordon, drain, repair, return, retire; node health and events; planned
maintenance; the tenant's notices. Operator-only except notices (each tenant sees its own)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from neocloud.api.deps import Caller, Health
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.health.domain.lifecycle import DrainMode, NodeEvent, NodeHealth, NodeState
from neocloud.health.domain.notices import Notice
from neocloud.kernel.health import RecommendedAction
from neocloud.kernel.ids import NodeId
from neocloud.wire.fields import IDENT_PATTERN
from neocloud.wire.node_health import (
    DrainCommand,
    MaintenanceCreate,
    MaintenanceOut,
    NodeCommand,
    NodeEventOut,
    NodeHealthOut,
    NodeStateName,
    NoticeOut,
    RepairCommand,
)

router = APIRouter(tags=["node health"])

NodePath = Annotated[str, Path(pattern=IDENT_PATTERN, description="node id")]


@router.get(
    "/node-health", response_model=list[NodeHealthOut], summary="Every node's lifecycle state (operators)"
)
def list_node_health(
    hs: Health, caller: Caller, state: Annotated[NodeStateName | None, Query()] = None
) -> list[NodeHealth]:
    return hs.nodes(caller, NodeState(state) if state else None)


@router.get(
    "/nodes/{node}/health", response_model=NodeHealthOut, summary="A node's lifecycle state (operators)"
)
def node_health(hs: Health, caller: Caller, node: NodePath) -> NodeHealth:
    return hs.node(caller, NodeId(node))


@router.get("/nodes/{node}/events", response_model=list[NodeEventOut], summary="A node's lifecycle events")
def node_events(
    hs: Health, caller: Caller, node: NodePath, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[NodeEvent]:
    return hs.events(caller, NodeId(node), limit)


@router.post("/nodes/{node}/cordon", response_model=NodeHealthOut, summary="No new work; running work stays")
def cordon(hs: Health, caller: Caller, node: NodePath, body: NodeCommand) -> NodeHealth:
    return hs.cordon(caller, NodeId(node), body.reason)


@router.post("/nodes/{node}/uncordon", response_model=NodeHealthOut, summary="Back to taking new work")
def uncordon(hs: Health, caller: Caller, node: NodePath, body: NodeCommand) -> NodeHealth:
    return hs.uncordon(caller, NodeId(node), body.reason)


@router.post(
    "/nodes/{node}/drain",
    response_model=NodeHealthOut,
    summary="Move the node's work off it (to spares), then take it out of service",
)
def drain(hs: Health, caller: Caller, node: NodePath, body: DrainCommand) -> NodeHealth:
    return hs.drain(
        caller, NodeId(node), body.reason, DrainMode(body.mode), timedelta(minutes=body.timeout_minutes)
    )


@router.post(
    "/nodes/{node}/repair", response_model=NodeHealthOut, summary="Start repairing a node out of service"
)
def repair(hs: Health, caller: Caller, node: NodePath, body: RepairCommand) -> NodeHealth:
    return hs.repair(caller, NodeId(node), RecommendedAction(body.action), body.reason, body.until)


@router.post(
    "/nodes/{node}/return",
    response_model=NodeHealthOut,
    summary="Next step back to service: repair → burn-in → in service",
)
def return_node(hs: Health, caller: Caller, node: NodePath, body: NodeCommand) -> NodeHealth:
    return hs.return_(caller, NodeId(node), body.reason)


@router.post("/nodes/{node}/retire", response_model=NodeHealthOut, summary="Take a node out for good")
def retire(hs: Health, caller: Caller, node: NodePath, body: NodeCommand) -> NodeHealth:
    return hs.retire(caller, NodeId(node), body.reason)


@router.post(
    "/nodes/{node}/maintenance",
    status_code=201,
    response_model=MaintenanceOut,
    summary="Plan maintenance: admission sells none of the node over the window (409 if booked)",
)
def plan_maintenance(hs: Health, caller: Caller, node: NodePath, body: MaintenanceCreate) -> NodeMaintenance:
    return hs.plan_maintenance(caller, NodeId(node), body.start, body.end, body.reason)


@router.get("/maintenance", response_model=list[MaintenanceOut], summary="Planned maintenance windows")
def list_maintenance(
    hs: Health, caller: Caller, node: Annotated[str | None, Query(pattern=IDENT_PATTERN)] = None
) -> list[NodeMaintenance]:
    return hs.maintenance(caller, NodeId(node) if node else None)


@router.delete("/maintenance/{window_id}", status_code=204, summary="Cancel a planned maintenance window")
def cancel_maintenance(
    hs: Health, caller: Caller, window_id: Annotated[str, Path(pattern=IDENT_PATTERN)]
) -> None:
    hs.cancel_maintenance(caller, window_id)


@router.get(
    "/notices",
    response_model=list[NoticeOut],
    summary="What happened to your allocations: replaced, degraded, restored, credit issued",
)
def notices(
    hs: Health,
    caller: Caller,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Notice]:
    return hs.notices(caller, after, limit)

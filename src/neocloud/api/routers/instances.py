"""Instances (on-demand and spot) and allocation events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from neocloud.api.deps import Caller, Control, Gates, IdempotencyKey, Paging
from neocloud.control.app.views import EventView, InstanceRequest, InstanceView, Page
from neocloud.wire.capacity import EventOut, InstanceCreate, InstanceOut
from neocloud.wire.fields import IDENT_PATTERN
from neocloud.wire.paging import Page as PageOut

router = APIRouter(tags=["instances"])

ObjectId = Annotated[str, Path(pattern=IDENT_PATTERN)]


@router.post(
    "/instances",
    status_code=201,
    response_model=InstanceOut,
    summary="Start whole nodes now, on demand or spot (409 when they do not fit)",
)
def create_instance(
    body: InstanceCreate, cp: Control, caller: Caller, gates: Gates, key: IdempotencyKey = None
) -> InstanceView:
    request = InstanceRequest(model=body.model, nodes=body.nodes, spot=body.spot, project=body.project)
    with gates.for_model(body.model):
        return cp.instances.create_instance(caller, request, key)


@router.get("/instances", response_model=PageOut[InstanceOut], summary="List instances")
def list_instances(cp: Control, caller: Caller, paging: Paging) -> Page[InstanceView]:
    return cp.instances.list_instances(caller, paging)


@router.get("/instances/{instance_id}", response_model=InstanceOut, summary="One instance")
def get_instance(cp: Control, caller: Caller, instance_id: ObjectId) -> InstanceView:
    return cp.instances.get_instance(caller, instance_id)


@router.post("/instances/{instance_id}/stop", response_model=InstanceOut, summary="Stop an instance")
def stop_instance(cp: Control, caller: Caller, instance_id: ObjectId) -> InstanceView:
    return cp.instances.stop_instance(caller, instance_id)


@router.get(
    "/allocations/{allocation_id}/events",
    response_model=list[EventOut],
    summary="The lifecycle events of a reservation or instance, oldest first",
)
def list_events(cp: Control, caller: Caller, allocation_id: ObjectId) -> list[EventView]:
    return cp.allocations.list_events(caller, allocation_id)

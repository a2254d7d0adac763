"""Reservations: quote, reserve, list, show, cancel, extend."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from neocloud.api.deps import Caller, Control, Gates, IdempotencyKey, Paging
from neocloud.control.app.views import Page, QuoteView, ReservationRequest, ReservationView
from neocloud.kernel.products import State
from neocloud.wire.capacity import QuoteOut, ReservationCreate, ReservationExtend, ReservationOut
from neocloud.wire.fields import IDENT_PATTERN
from neocloud.wire.paging import Page as PageOut

router = APIRouter(prefix="/reservations", tags=["reservations"])

ReservationId = Annotated[str, Path(pattern=IDENT_PATTERN)]


def _request(body: ReservationCreate) -> ReservationRequest:
    return ReservationRequest(
        model=body.model,
        gpus=body.gpus,
        hours=body.hours,
        start=body.start,
        shape=body.shape,
        project=body.project,
    )


@router.post(
    "/quote",
    response_model=QuoteOut,
    summary="Price a reservation and find the earliest start at which it fits",
)
def quote(body: ReservationCreate, cp: Control, caller: Caller) -> QuoteView:
    return cp.reservations.quote(caller, _request(body))


@router.post(
    "",
    status_code=201,
    response_model=ReservationOut,
    summary="Reserve GPUs for a time window (409 when they do not fit)",
)
def reserve(
    body: ReservationCreate, cp: Control, caller: Caller, gates: Gates, key: IdempotencyKey = None
) -> ReservationView:
    with gates.for_model(body.model):
        return cp.reservations.reserve(caller, _request(body), key)


@router.get("", response_model=PageOut[ReservationOut], summary="List reservations")
def list_reservations(
    cp: Control,
    caller: Caller,
    paging: Paging,
    state: Annotated[State | None, Query(description="only this state")] = None,
) -> Page[ReservationView]:
    return cp.reservations.list_reservations(caller, paging, state)


@router.get("/{reservation_id}", response_model=ReservationOut, summary="One reservation")
def get_reservation(cp: Control, caller: Caller, reservation_id: ReservationId) -> ReservationView:
    return cp.reservations.get_reservation(caller, reservation_id)


@router.post("/{reservation_id}/cancel", response_model=ReservationOut, summary="Cancel a reservation")
def cancel_reservation(cp: Control, caller: Caller, reservation_id: ReservationId) -> ReservationView:
    return cp.reservations.cancel_reservation(caller, reservation_id)


@router.post(
    "/{reservation_id}/extend",
    response_model=ReservationOut,
    summary="Extend a reservation by some hours (409 when the extra time does not fit)",
)
def extend_reservation(
    body: ReservationExtend,
    cp: Control,
    caller: Caller,
    reservation_id: ReservationId,
) -> ReservationView:
    return cp.reservations.extend_reservation(caller, reservation_id, body.hours)

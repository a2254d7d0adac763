"""Reservations: quote, reserve, list, show, cancel, extend.

The routes are `async def` and run the caller's lookup and the use case in one worker thread
(`Auth.run`): one thread hand-off per request instead of three (api/deps.Authenticated)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from neocloud.api.deps import Auth, Gates, IdempotencyKey, Paging
from neocloud.control.app.views import Page, QuoteView, ReservationRequest, ReservationView
from neocloud.control.domain.tenancy import Principal
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
async def quote(body: ReservationCreate, auth: Auth) -> QuoteView:
    return await auth.read(lambda caller: auth.control.reservations.quote(caller, _request(body)))


@router.post(
    "",
    status_code=201,
    response_model=ReservationOut,
    summary="Reserve GPUs for a time window (409 when they do not fit)",
)
async def reserve(
    body: ReservationCreate, auth: Auth, gates: Gates, key: IdempotencyKey = None
) -> ReservationView:
    def admit(caller: Principal) -> ReservationView:
        with gates.for_model(body.model):
            return auth.control.reservations.reserve(caller, _request(body), key)

    return await auth.run(admit, counters_once=True)  # the auth epoch and the catalog version together


@router.get("", response_model=PageOut[ReservationOut], summary="List reservations")
async def list_reservations(
    auth: Auth,
    paging: Paging,
    state: Annotated[State | None, Query(description="only this state")] = None,
) -> Page[ReservationView]:
    return await auth.read(lambda caller: auth.control.reservations.list_reservations(caller, paging, state))


@router.get("/{reservation_id}", response_model=ReservationOut, summary="One reservation")
async def get_reservation(auth: Auth, reservation_id: ReservationId) -> ReservationView:
    return await auth.read(lambda caller: auth.control.reservations.get_reservation(caller, reservation_id))


@router.post("/{reservation_id}/cancel", response_model=ReservationOut, summary="Cancel a reservation")
async def cancel_reservation(auth: Auth, reservation_id: ReservationId) -> ReservationView:
    return await auth.run(lambda caller: auth.control.reservations.cancel_reservation(caller, reservation_id))


@router.post(
    "/{reservation_id}/extend",
    response_model=ReservationOut,
    summary="Extend a reservation by some hours (409 when the extra time does not fit)",
)
async def extend_reservation(
    body: ReservationExtend,
    auth: Auth,
    reservation_id: ReservationId,
) -> ReservationView:
    return await auth.run(
        lambda caller: auth.control.reservations.extend_reservation(caller, reservation_id, body.hours)
    )

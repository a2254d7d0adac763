"""Reservations: quote, reserve, list, cancel, extend, and the capacity calendar.

Admission (placement, quota, idempotency) runs in one unit of work after the capacity lock
(`admit.admit`); prices are read from the price book. Calls to the provisioner happen only in the
reconciler, outside any transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from neocloud.control.app import admission, admit, audit, present, quotes
from neocloud.control.app.access import request_tenant, visible_allocation
from neocloud.control.app.allocations import finish
from neocloud.control.app.deps import (
    BOOKING_HORIZON,
    CALENDAR_DAYS,
    Deps,
    checked_page,
    next_cursor,
)
from neocloud.control.app.views import (
    CalendarSlot,
    CalendarView,
    Page,
    PageRequest,
    QuoteView,
    ReservationRequest,
    ReservationView,
)
from neocloud.control.domain import calendar
from neocloud.control.domain.shapes import Shape, Window, minor_text, total_minor, validate
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.audit import Action
from neocloud.kernel.errors import Conflict, InvalidInput
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.periods import require_utc
from neocloud.kernel.products import MAX_HOURS, Product, State


class ReservationService:
    """Quote, reserve, list, cancel, extend reservations, and the capacity calendar."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _window(self, request: ReservationRequest, now: datetime) -> Window:
        start = require_utc(request.start or now, "start")
        if start < now - timedelta(minutes=1):
            raise InvalidInput(
                "start is in the past", details={"start": start.isoformat(), "now": now.isoformat()}
            )
        if start > now + BOOKING_HORIZON:
            raise InvalidInput(
                f"start is beyond the booking horizon: reservations start at most {BOOKING_HORIZON.days} days ahead",
                details={
                    "field": "start",
                    "start": start.isoformat(),
                    "latest": (now + BOOKING_HORIZON).isoformat(),
                },
            )
        return Window.of(max(start, now), request.hours)

    def quote(self, principal: Principal, request: ReservationRequest) -> QuoteView:
        """Price (the tenant's contract price where one applies) and the earliest start (>= the asked
        one) at which the shape fits for the asked hours. A request that the tenant's or project's quota
        refuses over the asked window is infeasible, with the quota's reason, as `reserve` would say."""
        now = self._deps.clock.now()
        model, shape = gpu_model(request.model), Shape.parse(request.shape)
        validate(model, shape, request.gpus)
        window = self._window(request, now)
        unit = self._deps.prices.gpu_hour(
            model.name, Product.RESERVED, request_tenant(self._deps, principal, request.project)
        )
        total = total_minor(unit, request.gpus, request.hours)
        duration = window.end - window.start
        fit = quotes.fit(self._deps, principal, request, model, shape, window, now)
        return QuoteView(
            model.name,
            request.gpus,
            shape.value,
            fit.start,
            fit.start + duration if fit.start else None,
            minor_text(total),
            self._deps.prices.currency(),
            str(unit),
            fit.start is not None,
            fit.reasons,
            fit.message,
        )

    def reserve(
        self, principal: Principal, request: ReservationRequest, idempotency_key: str | None = None
    ) -> ReservationView:
        """Confirm a reservation at exactly the asked window, or raise Conflict with the engine's reasons.
        The same idempotency key from the same tenant returns the first reservation."""
        principal.require_write("reserving capacity")
        now = self._deps.clock.now()
        model, shape = gpu_model(request.model), Shape.parse(request.shape)
        validate(model, shape, request.gpus)
        window = self._window(request, now)
        unit = self._deps.prices.gpu_hour(
            model.name, Product.RESERVED, request_tenant(self._deps, principal, request.project)
        )
        request_ = admit.AdmissionRequest(
            Product.RESERVED,
            model.name,
            shape,
            request.gpus,
            window.start,
            window.end,
            total_minor(unit, request.gpus, request.hours),
            project=request.project,
            idempotency_key=idempotency_key,
            asked=(
                ("hours", str(request.hours)),
                ("start", request.start.isoformat() if request.start is not None else "now"),
            ),
        )
        alloc = admit.admit(self._deps, principal, request_, now)
        return present.reservation_view(alloc)

    def list_reservations(
        self,
        principal: Principal,
        page: PageRequest | None = None,
        state: str | None = None,
        *,
        states: Sequence[State] | None = None,
    ) -> Page[ReservationView]:
        """The caller's reservations (every tenant's for operators), by id; of `state` or of `states`."""
        p = checked_page(page)
        if state is not None:
            try:
                states = [State(state)]
            except ValueError:
                raise InvalidInput(
                    f"unknown state {state!r}", details={"known": [s.value for s in State]}
                ) from None
        tenant = None if principal.sees_everything else (principal.tenant_id or "")
        with self._deps.uow(read_only=True) as uow:
            items, total = uow.list_allocations(tenant, [Product.RESERVED], states, p.cursor, p.limit)
        return Page([present.reservation_view(a) for a in items], next_cursor(items, p.limit, total), total)

    def get_reservation(self, principal: Principal, reservation_id: str) -> ReservationView:
        return present.reservation_view(
            visible_allocation(self._deps, principal, reservation_id, (Product.RESERVED,), "reservation")
        )

    def cancel_reservation(self, principal: Principal, reservation_id: str) -> ReservationView:
        """Before it starts: cancelled, its GPUs freed. Once running: it ends now."""
        principal.require_write("cancelling a reservation")
        return present.reservation_view(
            finish(self._deps, principal, reservation_id, (Product.RESERVED,), "reservation")
        )

    def extend_reservation(self, principal: Principal, reservation_id: str, hours: int) -> ReservationView:
        """Keep the same GPUs `hours` longer, if no one else holds them then; Conflict otherwise."""
        principal.require_write("extending a reservation")
        current = visible_allocation(
            self._deps, principal, reservation_id, (Product.RESERVED,), "reservation"
        )
        if not 1 <= hours <= MAX_HOURS:
            raise InvalidInput(f"hours must be in 1..{MAX_HOURS}", details={"hours": hours})
        unit = self._deps.prices.gpu_hour(  # priced outside the unit of work
            current.model, Product.RESERVED, current.tenant_id
        )
        with self._deps.uow() as uow:
            alloc = uow.get_allocation(reservation_id, lock=True)
            uow.claim_nodes(sorted({b.node_id for b in uow.bookings_of(reservation_id)}), wait=True)
            assert alloc is not None and alloc.end is not None
            if not alloc.live or alloc.state is State.ENDING:
                raise Conflict(
                    f"reservation {reservation_id} is {alloc.state.value}",
                    details={"state": alloc.state.value},
                )
            new_end = alloc.end + timedelta(hours=hours)
            hours_total = int((new_end - alloc.start) / timedelta(hours=1))
            if hours_total > MAX_HOURS:
                raise InvalidInput(
                    f"a reservation lasts at most {MAX_HOURS} hours; extended it would last {hours_total}",
                    details={"hours": hours, "max_total_hours": MAX_HOURS},
                )
            admission.check_quota(uow, replace(alloc, start=alloc.end, end=new_end))  # the added hours only
            mine = {(b.node_id, b.slot) for b in uow.bookings_of(alloc.id)}
            others = [
                b
                for b in uow.bookings(alloc.model, alloc.end, new_end)
                if b.allocation_id != alloc.id and (b.node_id, b.slot) in mine
            ]
            if others:
                raise Conflict(
                    f"{len({(b.node_id, b.slot) for b in others})} of its GPUs are booked by others before {new_end.isoformat()}",
                    details={"reasons": {"held-by-others": len({(b.node_id, b.slot) for b in others})}},
                )
            moved = alloc.extended(new_end, total_minor(unit, alloc.gpus, hours_total))
            uow.end_bookings(alloc.id, new_end)
            uow.update_allocation(moved)
            uow.add_audit(
                audit.entry(
                    self._deps,
                    principal,
                    Action.RESERVATION_EXTEND,
                    alloc.id,
                    alloc.tenant_id,
                    {"hours": hours, "end": new_end.isoformat()},
                )
            )
            uow.commit()
        return present.reservation_view(moved)

    def calendar(
        self,
        principal: Principal,
        model: str,
        shape: str = "any",
        start: datetime | None = None,
        end: datetime | None = None,
        step_hours: int = 1,
    ) -> CalendarView:
        """Per step of [start, end): GPUs of `model` free throughout, and the largest `shape` request.
        `start` defaults to now, `end` to a week after `start`."""
        m, s = gpu_model(model), Shape.parse(shape)
        start = start or self._deps.clock.now()
        end = end or start + timedelta(days=CALENDAR_DAYS)
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput("calendar start and end must be timezone-aware (UTC)")
        if step_hours < 1:
            raise InvalidInput("step_hours must be >= 1", details={"step_hours": step_hours})
        with self._deps.uow(read_only=True) as uow:
            fleet = admission.load_fleet(uow, m.name, self._deps.fleets)
            if fleet is None:
                return CalendarView(m.name, s.value, [])
            bookings = uow.bookings(m.name, start, end)
            states = uow.node_states()
        slots = calendar.slots(fleet, bookings, m, s, start, end, timedelta(hours=step_hours), states)
        return CalendarView(
            m.name, s.value, [CalendarSlot(x.start, x.end, x.free_gpus, x.max_request_gpus) for x in slots]
        )

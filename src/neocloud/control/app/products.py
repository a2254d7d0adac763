"""Capacity products: reservations (quote, reserve, cancel, extend, calendar), on-demand and spot
instances, and their events. Admission runs in one unit of work after the capacity lock."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from neocloud.control.app import admission, present
from neocloud.control.app.context import (
    CALENDAR_DAYS,
    KEY_MAX,
    QUOTE_HORIZON,
    Context,
    checked_page,
    next_cursor,
)
from neocloud.control.app.ports import UnitOfWork
from neocloud.control.app.views import (
    CalendarSlot,
    CalendarView,
    EventView,
    InstanceRequest,
    InstanceView,
    Page,
    PageRequest,
    QuoteView,
    ReservationRequest,
    ReservationView,
)
from neocloud.control.domain import calendar
from neocloud.control.domain.allocations import Allocation, GpuBooking, Product, State
from neocloud.control.domain.shapes import Shape, Window, minor_text, total_minor, validate
from neocloud.control.domain.tenancy import (
    Principal,
    Project,
)
from neocloud.kernel.errors import (
    Conflict,
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
)
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.ids import AllocationId


def _same_request(
    done: Allocation, product: Product, model: str, gpus: int, shape: Shape, key: str
) -> Allocation:
    """The stored allocation for a reused idempotency key, if the request matches what it was made from."""
    if (done.product, done.model, done.gpus, done.shape) != (product, model, gpus, shape.value):
        raise IdempotencyConflict(
            f"idempotency key {key!r} was used for a different request ({done.id})",
            details={"idempotency_key": key, "existing": done.id},
        )
    return done


class ProductUseCases(Context):
    """Reservations, instances and the events of their allocations."""

    def _project(self, uow: UnitOfWork, principal: Principal, ref: str | None) -> Project:
        """The project new objects go to: the one named (id or name), else the token's, else the
        tenant's 'default'."""
        if ref is None and principal.project_id is not None:
            ref = principal.project_id
        if principal.tenant_id is None:
            if ref is None:
                raise InvalidInput(
                    "a token without a tenant must name the project (by id)", details={"field": "project"}
                )
            proj = uow.get_project(ref)
            if proj is None:
                raise NotFound(f"project {ref!r} not found")
            return proj
        proj = (
            (uow.get_project(ref) or uow.project_by_name(principal.tenant_id, ref))
            if ref
            else uow.project_by_name(principal.tenant_id, "default")
        )
        if proj is None or proj.tenant_id != principal.tenant_id:
            raise NotFound(f"project {ref or 'default'!r} not found")
        if principal.project_id is not None and proj.id != principal.project_id:
            raise Forbidden(f"this token is limited to project {principal.project_id}")
        return proj

    def _window(self, request: ReservationRequest, now: datetime) -> Window:
        start = request.start or now
        if start.tzinfo is None:
            raise InvalidInput("start must be timezone-aware (UTC)", details={"field": "start"})
        if start < now - timedelta(minutes=1):
            raise InvalidInput(
                "start is in the past", details={"start": start.isoformat(), "now": now.isoformat()}
            )
        return Window.of(max(start, now), request.hours)

    def quote(self, principal: Principal, request: ReservationRequest) -> QuoteView:
        """Price and the earliest start (>= the asked one) at which the shape fits for the asked hours."""
        now = self._clock.now()
        model, shape = gpu_model(request.model), Shape.parse(request.shape)
        validate(model, shape, request.gpus)
        window = self._window(request, now)
        unit = self._prices.gpu_hour(model.name, Product.RESERVED)
        total = total_minor(unit, request.gpus, request.hours)
        duration = window.end - window.start
        with self._uow(read_only=True) as uow:
            fleet = admission.load_fleet(uow, model.name, self._fleets)
            if fleet is None:
                fit = calendar.Fit(None, None, {"gpu-model": 0}, f"the fleet has no {model.name} nodes")
            else:
                spot = {
                    a.id
                    for a in uow.live_allocations(None, model.name, now, None)
                    if a.product is Product.SPOT
                }
                bookings = calendar.yielding(
                    uow.bookings(model.name, window.start, None), spot, now + self._spot_notice
                )
                fit = calendar.earliest_fit(
                    self._placer,
                    fleet,
                    bookings,
                    model,
                    shape,
                    request.gpus,
                    window.start,
                    duration,
                    random.Random(0),
                    uow.node_states(),
                    horizon=window.start + QUOTE_HORIZON,
                )
        return QuoteView(
            model.name,
            request.gpus,
            shape.value,
            fit.start,
            fit.start + duration if fit.start else None,
            minor_text(total),
            self._prices.currency(),
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
        now = self._clock.now()
        model, shape = gpu_model(request.model), Shape.parse(request.shape)
        validate(model, shape, request.gpus)
        window = self._window(request, now)
        unit = self._prices.gpu_hour(model.name, Product.RESERVED)
        alloc = self._admit(
            principal,
            request.project,
            idempotency_key,
            Product.RESERVED,
            model.name,
            shape,
            request.gpus,
            window.start,
            window.end,
            total_minor(unit, request.gpus, request.hours),
            now,
            nodes_requested=0,
        )
        return present.reservation_view(alloc)

    def _admit(
        self,
        principal: Principal,
        project_ref: str | None,
        key: str | None,
        product: Product,
        model_name: str,
        shape: Shape,
        gpus: int,
        start: datetime,
        end: datetime | None,
        price_minor: int,
        now: datetime,
        *,
        nodes_requested: int,
    ) -> Allocation:
        if key is not None and not 0 < len(key) <= KEY_MAX:
            raise InvalidInput(f"an idempotency key has 1..{KEY_MAX} characters")
        model = gpu_model(model_name)
        with self._uow() as uow:
            project = self._project(uow, principal, project_ref)
            if key is not None and (done := uow.allocation_by_key(project.tenant_id, key)) is not None:
                return _same_request(done, product, model.name, gpus, shape, key)
            uow.lock_capacity(model.name)
            if key is not None and (done := uow.allocation_by_key(project.tenant_id, key)) is not None:
                return _same_request(done, product, model.name, gpus, shape, key)
            prefix = {Product.RESERVED: "rsv", Product.ON_DEMAND: "ins", Product.SPOT: "spt"}[product]
            alloc, first = Allocation.new(
                AllocationId(self._ids.new_id(prefix)),
                project.tenant_id,
                project.id,
                product,
                model.name,
                gpus,
                start,
                end,
                at=now,
                nodes_requested=nodes_requested,
                shape=shape.value,
                price_minor=price_minor,
                currency=self._prices.currency(),
                idempotency_key=key,
            )
            admission.check_quota(uow, alloc)
            verdict = admission.decide(
                uow,
                self._placer,
                model,
                shape,
                gpus,
                start,
                end,
                now=now,
                notice=self._spot_notice,
                rng=random.Random(alloc.id),
                preempt=product is not Product.SPOT,
                may_shift=product is Product.ON_DEMAND,
                fleets=self._fleets,
            )
            if not isinstance(verdict, admission.Admission):
                raise admission.unschedulable(verdict, f"{gpus} {model.name} GPUs ({shape.value}) do not fit")
            placed = admission.persist(uow, alloc, [first], verdict, now=now, notice=self._spot_notice)
            uow.commit()
        return placed

    def _mine(
        self, principal: Principal, allocation_id: str, products: tuple[Product, ...], what: str
    ) -> Allocation:
        with self._uow(read_only=True) as uow:
            alloc = uow.get_allocation(allocation_id)
        if alloc is None or alloc.product not in products or not principal.can_see(alloc.tenant_id):
            raise NotFound(f"{what} {allocation_id!r} not found")
        return alloc

    def list_reservations(
        self, principal: Principal, page: PageRequest | None = None, state: str | None = None
    ) -> Page[ReservationView]:
        p = checked_page(page)
        states = None
        if state is not None:
            try:
                states = [State(state)]
            except ValueError:
                raise InvalidInput(
                    f"unknown state {state!r}", details={"known": [s.value for s in State]}
                ) from None
        tenant = None if principal.sees_everything else (principal.tenant_id or "")
        with self._uow(read_only=True) as uow:
            items, total = uow.list_allocations(tenant, [Product.RESERVED], states, p.cursor, p.limit)
        return Page([present.reservation_view(a) for a in items], next_cursor(items, p.limit, total), total)

    def get_reservation(self, principal: Principal, reservation_id: str) -> ReservationView:
        return present.reservation_view(
            self._mine(principal, reservation_id, (Product.RESERVED,), "reservation")
        )

    def cancel_reservation(self, principal: Principal, reservation_id: str) -> ReservationView:
        """Before it starts: cancelled, its GPUs freed. Once running: it ends now."""
        principal.require_write("cancelling a reservation")
        return present.reservation_view(
            self._finish(principal, reservation_id, (Product.RESERVED,), "reservation")
        )

    def _finish(
        self, principal: Principal, allocation_id: str, products: tuple[Product, ...], what: str
    ) -> Allocation:
        self._mine(principal, allocation_id, products, what)
        now = self._clock.now()
        with self._uow() as uow:
            alloc = uow.get_allocation(allocation_id, lock=True)
            if alloc is None:
                raise NotFound(f"{what} {allocation_id!r} not found")
            if alloc.state in (State.SCHEDULED, State.REQUESTED) or (
                alloc.state is State.PROVISIONING and alloc.start > now
            ):
                moved, event = alloc.to(State.CANCELLED, at=now, reason=f"{what} cancelled")
                uow.end_bookings(alloc.id, alloc.start)
            elif alloc.state in (State.PROVISIONING, State.ACTIVE):
                moved, event = alloc.to(State.ENDING, at=now, reason=f"{what} stopped")
                # A reservation is a commitment: stopped early, it frees its GPUs now but keeps its
                # window, which is what it is billed for. Instances end (and bill) at the stop.
                if alloc.product is not Product.RESERVED and (alloc.end is None or alloc.end > now):
                    moved = moved.extended(now, moved.price_minor)
                uow.end_bookings(alloc.id, now)
            else:
                raise Conflict(
                    f"{what} {allocation_id} is already {alloc.state.value}",
                    details={"state": alloc.state.value},
                )
            uow.update_allocation(moved)
            uow.add_event(event)
            uow.commit()
        return moved

    def extend_reservation(self, principal: Principal, reservation_id: str, hours: int) -> ReservationView:
        """Keep the same GPUs `hours` longer, if no one else holds them then; Conflict otherwise."""
        principal.require_write("extending a reservation")
        current = self._mine(principal, reservation_id, (Product.RESERVED,), "reservation")
        if not 1 <= hours <= 24 * 366:
            raise InvalidInput("hours must be in 1..8784", details={"hours": hours})
        with self._uow() as uow:
            uow.lock_capacity(current.model)
            alloc = uow.get_allocation(reservation_id, lock=True)
            assert alloc is not None and alloc.end is not None
            if not alloc.live or alloc.state is State.ENDING:
                raise Conflict(
                    f"reservation {reservation_id} is {alloc.state.value}",
                    details={"state": alloc.state.value},
                )
            new_end = alloc.end + timedelta(hours=hours)
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
            hours_total = int((new_end - alloc.start) / timedelta(hours=1))
            unit = self._prices.gpu_hour(alloc.model, Product.RESERVED)
            moved = alloc.extended(new_end, total_minor(unit, alloc.gpus, hours_total))
            uow.end_bookings(alloc.id, new_end)
            uow.update_allocation(moved)
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
        start = start or self._clock.now()
        end = end or start + timedelta(days=CALENDAR_DAYS)
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput("calendar start and end must be timezone-aware (UTC)")
        if step_hours < 1:
            raise InvalidInput("step_hours must be >= 1", details={"step_hours": step_hours})
        with self._uow(read_only=True) as uow:
            fleet = admission.load_fleet(uow, m.name, self._fleets)
            if fleet is None:
                return CalendarView(m.name, s.value, [])
            bookings = uow.bookings(m.name, start, end)
            states = uow.node_states()
        slots = calendar.slots(fleet, bookings, m, s, start, end, timedelta(hours=step_hours), states)
        return CalendarView(
            m.name, s.value, [CalendarSlot(x.start, x.end, x.free_gpus, x.max_request_gpus) for x in slots]
        )

    # instances ---------------------------------------------------------------------------------------
    def create_instance(
        self, principal: Principal, request: InstanceRequest, idempotency_key: str | None = None
    ) -> InstanceView:
        """`nodes` whole nodes from now until stopped. On-demand may take back spot capacity (starting
        once the spot notice elapses); spot takes only what is free from now on."""
        principal.require_write("starting an instance")
        if not 1 <= request.nodes <= 10_000:
            raise InvalidInput("nodes must be in 1..10000", details={"nodes": request.nodes})
        model = gpu_model(request.model)
        product = Product.SPOT if request.spot else Product.ON_DEMAND
        gpus = request.nodes * model.gpus_per_node
        hourly = total_minor(self._prices.gpu_hour(model.name, product), gpus, 1)
        alloc = self._admit(
            principal,
            request.project,
            idempotency_key,
            product,
            model.name,
            Shape.WHOLE_NODES,
            gpus,
            self._clock.now(),
            None,
            hourly,
            self._clock.now(),
            nodes_requested=request.nodes,
        )
        return present.instance_view(alloc)

    def list_instances(self, principal: Principal, page: PageRequest | None = None) -> Page[InstanceView]:
        p = checked_page(page)
        tenant = None if principal.sees_everything else (principal.tenant_id or "")
        with self._uow(read_only=True) as uow:
            items, total = uow.list_allocations(
                tenant, [Product.ON_DEMAND, Product.SPOT], None, p.cursor, p.limit
            )
        return Page([present.instance_view(a) for a in items], next_cursor(items, p.limit, total), total)

    def get_instance(self, principal: Principal, instance_id: str) -> InstanceView:
        return present.instance_view(
            self._mine(principal, instance_id, (Product.ON_DEMAND, Product.SPOT), "instance")
        )

    def stop_instance(self, principal: Principal, instance_id: str) -> InstanceView:
        principal.require_write("stopping an instance")
        return present.instance_view(
            self._finish(principal, instance_id, (Product.ON_DEMAND, Product.SPOT), "instance")
        )

    def list_events(self, principal: Principal, allocation_id: str) -> list[EventView]:
        self._mine(principal, allocation_id, tuple(Product), "allocation")
        with self._uow(read_only=True) as uow:
            return [present.event_view(e) for e in uow.events(allocation_id)]

    def bookings(self, principal: Principal, allocation_id: str) -> list[GpuBooking]:
        """The exact GPUs an allocation holds, with their windows."""
        self._mine(principal, allocation_id, tuple(Product), "allocation")
        with self._uow(read_only=True) as uow:
            return uow.bookings_of(allocation_id)

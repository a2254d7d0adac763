"""What reservations and instances share: ending an allocation, and its events and GPU bookings."""

from __future__ import annotations

from neocloud.control.app import audit, present
from neocloud.control.app.access import visible_allocation
from neocloud.control.app.deps import Deps
from neocloud.control.app.views import EventView
from neocloud.control.domain.allocations import Allocation, GpuBooking
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.audit import Action
from neocloud.kernel.errors import Conflict, NotFound
from neocloud.kernel.products import Product, State


def finish(
    deps: Deps, principal: Principal, allocation_id: str, products: tuple[Product, ...], what: str
) -> Allocation:
    """Before it starts: cancelled, its GPUs freed. Once running: it ends now. A reservation is a
    commitment: stopped early it frees its GPUs now but keeps its window, which is what it is billed
    for; instances end (and bill) at the stop."""
    visible_allocation(deps, principal, allocation_id, products, what)
    now = deps.clock.now()
    with deps.uow() as uow:
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
        action = Action.RESERVATION_CANCEL if alloc.product is Product.RESERVED else Action.INSTANCE_STOP
        details = {
            "from_state": alloc.state.value,
            "to_state": moved.state.value,
            "product": alloc.product.value,
        }
        uow.add_audit(audit.entry(deps, principal, action, alloc.id, alloc.tenant_id, details, at=now))
        uow.commit()
    return moved


class AllocationService:
    """The lifecycle events and exact GPUs of any allocation the principal may see."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def list_events(self, principal: Principal, allocation_id: str) -> list[EventView]:
        visible_allocation(self._deps, principal, allocation_id, tuple(Product), "allocation")
        with self._deps.uow(read_only=True) as uow:
            return [present.event_view(e) for e in uow.events(allocation_id)]

    def bookings(self, principal: Principal, allocation_id: str) -> list[GpuBooking]:
        """The exact GPUs an allocation holds, with their windows."""
        visible_allocation(self._deps, principal, allocation_id, tuple(Product), "allocation")
        with self._deps.uow(read_only=True) as uow:
            return uow.bookings_of(allocation_id)

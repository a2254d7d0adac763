"""Allocations: the exact nodes and GPUs a reservation or instance holds, and their lifecycle.

The lifecycle is an explicit transition table (STYLE.md example 7). Every move yields an `Event`, an
append-only record with everything billing meters from (tenant, project, product, model, gpus, nodes,
time). Reservations and instances are both allocations: `product` tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from neocloud.kernel.errors import InvalidInput, InvalidTransition
from neocloud.kernel.ids import AllocationId, NodeId, ProjectId, TenantId
from neocloud.kernel.periods import require_utc
from neocloud.kernel.products import Product, State

TRANSITIONS: dict[State, frozenset[State]] = {
    State.REQUESTED: frozenset({State.SCHEDULED, State.FAILED, State.CANCELLED}),
    State.SCHEDULED: frozenset({State.PROVISIONING, State.CANCELLED, State.PREEMPTED, State.FAILED}),
    State.PROVISIONING: frozenset(
        {State.ACTIVE, State.ENDING, State.FAILED, State.PREEMPTED, State.CANCELLED}
    ),
    State.ACTIVE: frozenset({State.ENDING, State.PREEMPTED, State.FAILED}),
    State.ENDING: frozenset({State.ENDED, State.FAILED}),
    State.ENDED: frozenset(),
    State.FAILED: frozenset(),
    State.PREEMPTED: frozenset(),
    State.CANCELLED: frozenset(),
}

TERMINAL: frozenset[State] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# States in which an allocation holds (or will hold) its GPUs.
LIVE: frozenset[State] = frozenset(
    {State.REQUESTED, State.SCHEDULED, State.PROVISIONING, State.ACTIVE, State.ENDING}
)


@dataclass(frozen=True, slots=True)
class GpuBooking:
    """One GPU (node, slot) held by `allocation` over [start, end); end None means until released."""

    allocation_id: AllocationId
    node_id: NodeId
    slot: int
    start: datetime
    end: datetime | None

    def overlaps(self, start: datetime, end: datetime | None) -> bool:
        """Whether the GPU is held at some instant of [start, end) (an empty booking holds nothing)."""
        if self.end is not None and self.end <= self.start:
            return False
        ends_after = self.end is None or self.end > start
        starts_before = end is None or self.start < end
        return ends_after and starts_before


@dataclass(frozen=True, slots=True)
class Event:
    """One lifecycle transition, append-only: the basis for billing."""

    allocation_id: AllocationId
    tenant_id: TenantId
    project_id: ProjectId
    product: Product
    model: str
    gpus: int
    nodes: tuple[NodeId, ...]
    from_state: State | None
    to_state: State
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Allocation:
    """GPUs held for a tenant's project over [start, end) (end None: until stopped).

    `nodes` and the GPU bookings record exactly what is held; `nodes_requested` is what an instance
    asked; `shape` what a reservation asked. `price_minor` is the reservation total or the instance's
    hourly price, in integer minor units of `currency`.
    """

    id: AllocationId
    tenant_id: TenantId
    project_id: ProjectId
    product: Product
    model: str
    gpus: int
    start: datetime
    end: datetime | None
    state: State
    created_at: datetime
    nodes: tuple[NodeId, ...] = ()
    nodes_requested: int = 0
    shape: str = ""
    price_minor: int = 0
    currency: str = "USD"
    idempotency_key: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    preempted_at: datetime | None = None
    notice_until: datetime | None = None
    request_digest: str | None = None
    """For an idempotent request: a digest of the canonical request it was made from."""

    @staticmethod
    def new(
        id: AllocationId,
        tenant_id: TenantId,
        project_id: ProjectId,
        product: Product,
        model: str,
        gpus: int,
        start: datetime,
        end: datetime | None,
        *,
        at: datetime,
        nodes_requested: int = 0,
        shape: str = "",
        price_minor: int = 0,
        currency: str = "USD",
        idempotency_key: str | None = None,
        request_digest: str | None = None,
    ) -> tuple[Allocation, Event]:
        """A freshly requested allocation and its first event (from None to requested)."""
        require_utc(start, "start")
        require_utc(at, "at")
        if end is not None and require_utc(end, "end") <= start:
            raise InvalidInput(
                "an allocation must end after it starts",
                details={"start": start.isoformat(), "end": end.isoformat()},
            )
        if gpus < 1:
            raise InvalidInput("an allocation holds at least one GPU", details={"gpus": gpus})
        alloc = Allocation(
            id,
            tenant_id,
            project_id,
            product,
            model,
            gpus,
            start,
            end,
            State.REQUESTED,
            at,
            nodes_requested=nodes_requested,
            shape=shape,
            price_minor=price_minor,
            currency=currency,
            idempotency_key=idempotency_key,
            request_digest=request_digest,
        )
        return alloc, alloc.event(None, State.REQUESTED, at, "requested")

    @property
    def live(self) -> bool:
        return self.state in LIVE

    def event(self, from_state: State | None, to_state: State, at: datetime, reason: str) -> Event:
        return Event(
            self.id,
            self.tenant_id,
            self.project_id,
            self.product,
            self.model,
            self.gpus,
            self.nodes,
            from_state,
            to_state,
            at,
            reason,
        )

    def to(self, state: State, *, at: datetime, reason: str = "") -> tuple[Allocation, Event]:
        """Move to `state` at `at`; InvalidTransition when the table forbids it."""
        require_utc(at, "at")
        if state not in TRANSITIONS[self.state]:
            raise InvalidTransition(
                f"allocation {self.id}: cannot go from {self.state.value} to {state.value}",
                details={
                    "from": self.state.value,
                    "to": state.value,
                    "allowed": sorted(s.value for s in TRANSITIONS[self.state]),
                },
            )
        moved = self._with(
            state=state,
            started_at=at if state is State.ACTIVE else self.started_at,
            ended_at=at if state in TERMINAL else self.ended_at,
        )
        return moved, moved.event(self.state, state, at, reason or state.value)

    def placed(self, nodes: tuple[NodeId, ...], start: datetime) -> Allocation:
        """Record where the allocation landed (and when its GPUs are first held)."""
        return self._with(nodes=nodes, start=start)

    def with_notice(self, at: datetime, notice_until: datetime) -> Allocation:
        """Record a spot preemption decision: the GPUs return at `notice_until`."""
        return self._with(preempted_at=at, notice_until=notice_until)

    def extended(self, end: datetime, price_minor: int) -> Allocation:
        return self._with(end=end, price_minor=price_minor)

    def _with(self, **changes: Any) -> Allocation:
        """`dataclasses.replace(self, **changes)` (the class has no validation in `__init__`), without
        its per-call field walk: every transition makes one, so the reconciler makes one per step."""
        values = list(_values(self))
        for name, value in changes.items():
            values[_INDEX[name]] = value
        return Allocation(*values)


_INDEX: dict[str, int] = {f.name: i for i, f in enumerate(fields(Allocation))}  # every field is an init one
_values = attrgetter(*_INDEX)

"""The in-memory UnitOfWork: the same contract as the SQL store, for tests, the demo and the simulator.

A unit of work holds the store's lock for its whole life (so decisions are serialised, like SQLite's
single writer) and writes the store's tables in place through an undo log (`memory_tables`): `commit()`
keeps the writes so far, leaving without commit takes back every write since the last commit. Units
of work on one thread do not nest (the lock is re-entrant, but a unit begun inside another one of the
same store would see its uncommitted writes): `MemoryStore` refuses that.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType

from neocloud.control.adapters.memory_tables import (
    Tables,
    Undo,
    Writes,
    booked_columns,
    compact_columns,
    find_bookings,
)
from neocloud.control.adapters.memory_tenancy import TenancyTables, paged
from neocloud.control.domain.allocations import Allocation, Event, GpuBooking
from neocloud.control.domain.booked import BookedGpus, micros
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.fleet.fleet import Node
from neocloud.kernel.ids import ProjectId, TenantId
from neocloud.kernel.products import Product, State


class MemoryStore:
    """The shared state behind every MemoryUnitOfWork made from it; call it to get a new unit of work."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables = Tables()
        self._open = threading.local()

    def __call__(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        """A unit of work; `read_only` changes nothing here (one lock serialises every unit of work)."""
        return MemoryUnitOfWork(self)

    def _begin(self) -> None:
        if getattr(self._open, "unit", False):
            raise RuntimeError("memory store: a unit of work was begun inside another one on this thread")
        self._open.unit = True

    def _end(self) -> None:
        self._open.unit = False


class MemoryUnitOfWork(TenancyTables):
    claims_are_current = True
    """Every unit of work holds the store's one lock from `__enter__` on, so what it read is current:
    admission need not read bookings again after claiming nodes (control/app/admit.py), as on SQLite."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._t = store.tables
        self._undo = Undo()
        self._w = Writes(self._t, self._undo)

    def __enter__(self) -> MemoryUnitOfWork:
        self._store.lock.acquire()
        try:
            self._store._begin()
        except BaseException:
            self._store.lock.release()
            raise
        self._undo.clear()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._undo.rollback()  # what was not committed
        finally:
            self._store._end()
            self._store.lock.release()

    def commit(self) -> None:
        self._undo.clear()

    # fleet
    def add_nodes(self, nodes: Sequence[Node]) -> int:
        added = 0
        for n in nodes:
            if n.id not in self._t.nodes:
                self._w.add_node(n)
                self._w.set_node_state(n.id, "ready")
                added += 1
        return added

    def nodes(self, model: str | None = None) -> list[Node]:
        if model is None:
            return list(self._t.nodes.values())
        return list(self._t.nodes_by_model.get(model, ()))

    def node_version(self, model: str) -> str:
        return str(len(self._t.nodes_by_model.get(model, ())))

    def node_states(self) -> dict[str, str]:
        return dict(self._t.not_ready)

    def set_node_state(self, node_id: str, state: str) -> bool:
        if node_id not in self._t.nodes:
            return False
        self._w.set_node_state(node_id, state)
        return True

    def add_maintenance(self, window: NodeMaintenance) -> None:
        self._undo.put(self._t.maintenance, window.id, window)

    def maintenance(self, node_id: str | None = None) -> list[NodeMaintenance]:
        found = [w for w in self._t.maintenance.values() if node_id is None or w.node_id == node_id]
        return sorted(found, key=lambda w: (w.start, w.id))

    def delete_maintenance(self, window_id: str) -> bool:
        return self._undo.pop(self._t.maintenance, window_id, keep_order=True) is not None

    def claim_nodes(self, node_ids: Sequence[str], *, wait: bool) -> set[str]:
        """The store lock, held since __enter__, already serialises every decision: all are claimed."""
        return set(node_ids)

    def lock_tenant(self, tenant_id: str) -> None:
        """The store lock already serialises every decision."""

    # allocations
    def add_allocation(self, alloc: Allocation) -> None:
        self._w.put_allocation(alloc)

    def update_allocation(self, alloc: Allocation) -> None:
        self._w.put_allocation(alloc)

    def get_allocation(
        self, allocation_id: str, *, lock: bool = False, skip_locked: bool = False
    ) -> Allocation | None:
        return self._t.allocations.get(allocation_id)

    def allocation_by_key(self, tenant_id: str, idempotency_key: str) -> Allocation | None:
        found = self._t.by_key.get((tenant_id, idempotency_key))
        return None if found is None else self._t.allocations.get(found)

    def list_allocations(
        self,
        tenant_id: str | None,
        products: Sequence[Product],
        states: Sequence[State] | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Allocation], int]:
        items = [
            a
            for a in self._t.allocations.values()
            if (tenant_id is None or a.tenant_id == tenant_id)
            and a.product in products
            and (states is None or a.state in states)
        ]
        return paged(items, after, limit)

    def allocations_overlapping(
        self, start: datetime, end: datetime, tenant_id: str | None = None
    ) -> list[Allocation]:
        return sorted(
            (
                a
                for a in self._t.allocations.values()
                if (tenant_id is None or a.tenant_id == tenant_id)
                and a.start < end
                and ((until := a.ended_at or a.end) is None or until > start)
            ),
            key=lambda a: a.id,
        )

    def live_allocations(
        self,
        tenant_id: TenantId | None,
        model: str,
        start: datetime,
        end: datetime | None,
        project_id: ProjectId | None = None,
        product: Product | None = None,
    ) -> list[Allocation]:
        allocations = self._t.allocations
        found = [
            a
            for a in (allocations[i] for i in self._t.live)
            if a.model == model
            and (tenant_id is None or a.tenant_id == tenant_id)
            and (project_id is None or a.project_id == project_id)
            and (product is None or a.product is product)
            and (a.end is None or a.end > start)
            and (end is None or a.start < end)
        ]
        order = self._t.order
        return sorted(found, key=lambda a: order[a.id])  # as a scan of every allocation would list them

    def held(
        self, tenant_id: TenantId, model: str, start: datetime, end: datetime | None
    ) -> list[tuple[datetime, datetime | None, int, str]]:
        return [
            (a.start, a.end, a.gpus, a.project_id)
            for a in self.live_allocations(tenant_id, model, start, end)
        ]

    def due(self, now: datetime, limit: int) -> list[Allocation]:
        """Read from the index of live allocations by the instant they become due (`due_from`), so a
        pass costs what is due, not every live allocation."""
        t = self._t
        upto = bisect.bisect_right(t.due, micros(now), key=_first)
        allocations = t.allocations
        return [allocations[i] for i in sorted(i for _, i in t.due[:upto])[:limit]]

    def add_bookings(self, bookings: Sequence[GpuBooking]) -> None:
        if bookings:
            self._w.add_bookings(bookings)

    def bookings(
        self, model: str, start: datetime, end: datetime | None, nodes: Sequence[str] | None = None
    ) -> list[GpuBooking]:
        return find_bookings(self._t, model, start, end, nodes)

    def bookings_yielding(
        self, model: str, start: datetime, now: datetime
    ) -> tuple[list[GpuBooking], set[str]]:
        spot = {a.id for a in self.live_allocations(None, model, now, None, product=Product.SPOT)}
        found = self.bookings(model, start, None)
        return found, {b.allocation_id for b in found if b.allocation_id in spot}

    def taken(self, model: str, start: datetime, end: datetime) -> dict[str, set[int]]:
        booked = self.booked(model, start, end)
        held = booked.holding(micros(start), micros(end))
        out: dict[str, set[int]] = {}
        node_ids = booked.node_ids
        for node, slot in zip(booked.node[held].tolist(), booked.slot[held].tolist(), strict=True):
            out.setdefault(node_ids[node], set()).add(slot)
        return out

    def booked(self, model: str, start: datetime, end: datetime | None) -> BookedGpus:
        """The bookings of `model` that may hold a GPU from `start` on (a superset of those over [start,
        end)): the store's own columns, kept in step by every write (`memory_booked`). A unit of work
        with no write pending first lets them set aside the rows that ended (`compact_columns`)."""
        if self._undo.empty:
            compact_columns(self._t, model)
        return booked_columns(self._t, model, start)

    def bookings_of(self, allocation_id: str) -> list[GpuBooking]:
        rows = self._t.bookings
        return [rows[s] for s in self._t.bookings_by_alloc.get(allocation_id, ())]

    def end_bookings(self, allocation_id: str, at: datetime) -> None:
        rows = self._t.bookings
        seqs = list(self._t.bookings_by_alloc.get(allocation_id, ()))
        ends = [rows[seq].end for seq in seqs]
        # the bookings that run to the allocation's end (open ones, else the latest); one cut short by a
        # node replacement stays as it was
        latest = (
            None if any(e is None for e in ends) else max((e for e in ends if e is not None), default=None)
        )
        for seq, end in zip(seqs, ends, strict=True):
            if end == latest:
                self._w.end_booking(seq, at)

    def end_node_bookings(self, allocation_id: str, node_id: str, at: datetime) -> None:
        rows = self._t.bookings
        for seq in self._t.bookings_by_alloc.get(allocation_id, ()):
            b = rows[seq]
            if b.node_id == node_id and (b.end is None or b.end > at):
                self._w.end_booking(seq, max(at, b.start))

    def add_event(self, event: Event) -> None:
        self._w.add_event(event)

    def events(self, allocation_id: str) -> list[Event]:
        return list(self._t.events_by_alloc.get(allocation_id, ()))

    # billing's feed (not part of the UnitOfWork port: the memory store's own cursor over its event log)
    def events_after(self, position: int, tenant_id: str | None = None) -> tuple[list[Event], int]:
        """Events appended after the first `position` of the log (all, or `tenant_id`'s only), and the
        log's length now (the position to read from next time)."""
        if tenant_id is not None:
            if position:
                raise ValueError("events_after: a tenant's events are read from the start only")
            return list(self._t.events_by_tenant.get(tenant_id, ())), len(self._t.events)
        return self._t.events[position:], len(self._t.events)


def _first(entry: tuple[int, str]) -> int:
    return entry[0]


def _is_due(a: Allocation, now: datetime) -> bool:
    """Whether the reconciler has something to do for `a` at `now` (shared with the SQL store's query)."""
    if a.state is State.SCHEDULED:
        return a.start <= now or (a.notice_until is not None and a.notice_until <= now)
    if a.state is State.PROVISIONING or a.state is State.ENDING:
        return True
    if a.state is State.ACTIVE:
        return (a.end is not None and a.end <= now) or (a.notice_until is not None and a.notice_until <= now)
    return False

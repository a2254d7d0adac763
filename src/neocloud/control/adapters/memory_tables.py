"""The memory store's tables: dicts with the indexes its queries need, written through an undo log.

A unit of work writes in place and records how to take each write back (`Undo`); leaving without
commit plays the log backwards, which restores every table and index exactly. Nothing is copied per
unit of work, so a unit costs what it reads and writes, not the size of the history.

Indexes (each kept in step by the writes that touch it):
- bookings by allocation;
- events by allocation and by tenant, beside the whole log in append order (billing's feed reads it
  from a cursor);
- live allocations (those that hold or will hold GPUs) and allocations by idempotency key;
- nodes by model and the nodes that are not 'ready';
- each model's bookings as numpy columns (`memory_booked`: the free-capacity view admission reads), and
  bookings of nodes not (yet) known, which join their model's columns when the node is added;
- live allocations by the instant they become due for the reconciler (`due_from`), sorted.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from neocloud.control.adapters.memory_booked import BookingColumns, Owners
from neocloud.control.domain.allocations import LIVE, Allocation, Event, GpuBooking
from neocloud.control.domain.booked import BookedGpus, end_micros, micros
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.control.domain.quotas import Quota
from neocloud.control.domain.tenancy import Project, Tenant, Token
from neocloud.fleet.fleet import Node
from neocloud.kernel.audit import AuditRecord
from neocloud.kernel.products import State

_MISSING = object()


class Undo:
    """Writes that can be taken back, newest last."""

    def __init__(self) -> None:
        self._log: list[Callable[[], None]] = []

    def clear(self) -> None:
        self._log.clear()

    @property
    def empty(self) -> bool:
        """Whether no write is waiting to be kept or taken back."""
        return not self._log

    def rollback(self) -> None:
        log = self._log
        while log:
            log.pop()()

    def put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        old = table.get(key, _MISSING)
        if old is _MISSING:
            self._log.append(lambda: table.pop(key))
        else:
            self._log.append(lambda: table.__setitem__(key, old))
        table[key] = value

    def pop(self, table: dict[Any, Any], key: Any, *, keep_order: bool = False) -> Any:
        """Remove `key` (absent: nothing happens); returns the old value or None. Taking it back puts
        the key last, or (`keep_order`, at a cost linear in the table) where it was."""
        if keep_order and key in table:
            at = list(table).index(key)
            old = table.pop(key)
            self._log.append(lambda: _insert_at(table, at, key, old))
            return old
        old = table.pop(key, _MISSING)
        if old is _MISSING:
            return None
        self._log.append(lambda: table.__setitem__(key, old))
        return old

    def append(self, rows: list[Any], value: Any) -> None:
        rows.append(value)
        self._log.append(rows.pop)

    def insort(self, rows: list[Any], value: Any) -> None:
        bisect.insort(rows, value)
        self._log.append(lambda: _remove_sorted(rows, value))

    def remove_sorted(self, rows: list[Any], value: Any) -> None:
        _remove_sorted(rows, value)
        self._log.append(lambda: bisect.insort(rows, value))

    def call(self, undo: Callable[[], None]) -> None:
        """Record how to take back a write made elsewhere (`undo` runs on rollback)."""
        self._log.append(undo)

    def set_attr(self, obj: Any, name: str, value: Any) -> None:
        old = getattr(obj, name)
        self._log.append(lambda: setattr(obj, name, old))
        setattr(obj, name, value)


def _insert_at(table: dict[Any, Any], at: int, key: Any, value: Any) -> None:
    items = list(table.items())
    items.insert(at, (key, value))
    table.clear()
    table.update(items)


def _remove_sorted(rows: list[Any], value: Any) -> None:
    i = bisect.bisect_left(rows, value)
    assert rows[i] == value
    del rows[i]


@dataclass
class Tables:
    tenants: dict[str, Tenant] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    quotas: dict[tuple[str, str | None, str], Quota] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    nodes_by_model: dict[str, list[Node]] = field(default_factory=dict)
    node_ids_by_model: dict[str, dict[str, None]] = field(default_factory=dict)
    not_ready: dict[str, str] = field(default_factory=dict)
    allocations: dict[str, Allocation] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)  # allocation id -> position of its first add
    live: dict[str, None] = field(default_factory=dict)  # ids of LIVE allocations (read in `order`)
    by_key: dict[tuple[str, str], str] = field(default_factory=dict)
    bookings: dict[int, GpuBooking] = field(default_factory=dict)  # sequence -> booking
    bookings_by_alloc: dict[str, list[int]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    events_by_alloc: dict[str, list[Event]] = field(default_factory=dict)
    events_by_tenant: dict[str, list[Event]] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)
    auth_epoch: int = 0
    maintenance: dict[str, NodeMaintenance] = field(default_factory=dict)
    booking_seq: int = 0
    owners: Owners = field(default_factory=Owners)
    columns: dict[str, BookingColumns] = field(default_factory=dict)  # model -> its bookings as columns
    booking_row: dict[int, int] = field(default_factory=dict)  # sequence -> row in its model's columns
    orphans: dict[str, list[int]] = field(default_factory=dict)  # unknown node -> its booking sequences
    due: list[tuple[int, str]] = field(default_factory=list)  # (due from, in µs; allocation id), sorted
    due_from: dict[str, int] = field(default_factory=dict)  # allocation id -> its entry in `due`

    def columns_of(self, model: str) -> BookingColumns:
        found = self.columns.get(model)
        if found is None:  # never taken back: empty columns answer like none
            found = self.columns[model] = BookingColumns(self.owners)
        return found


class Writes:
    """The writes on `Tables` that keep its indexes in step, each through `undo`."""

    def __init__(self, t: Tables, undo: Undo) -> None:
        self.t = t
        self.u = undo

    def add_node(self, node: Node) -> None:
        self.u.put(self.t.nodes, node.id, node)
        self.u.append(self.t.nodes_by_model.setdefault(node.model, []), node)
        self.u.put(self.t.node_ids_by_model.setdefault(node.model, {}), node.id, None)
        self.u.call(self.t.columns_of(node.model).add_node(node.id))
        for seq in self.u.pop(self.t.orphans, node.id) or ():  # bookings made before the node was known
            self._add_row(seq, self.t.bookings[seq])

    def set_node_state(self, node_id: str, state: str) -> None:
        if state == "ready":
            self.u.pop(self.t.not_ready, node_id)
        else:
            self.u.put(self.t.not_ready, node_id, state)

    def put_allocation(self, alloc: Allocation) -> None:
        t, u = self.t, self.u
        old = t.allocations.get(alloc.id)
        if old is None:
            u.put(t.order, alloc.id, len(t.order))
        u.put(t.allocations, alloc.id, alloc)
        if alloc.state in LIVE:
            if alloc.id not in t.live:
                u.put(t.live, alloc.id, None)
        elif alloc.id in t.live:
            u.pop(t.live, alloc.id)
        self._index_due(alloc)
        if (
            old is not None
            and old.idempotency_key is not None
            and old.idempotency_key != alloc.idempotency_key
        ):
            key = (old.tenant_id, old.idempotency_key)
            if t.by_key.get(key) == alloc.id:
                u.pop(t.by_key, key)
        if alloc.idempotency_key is not None:
            key = (alloc.tenant_id, alloc.idempotency_key)
            if key not in t.by_key:  # the first allocation with a key answers for it, as a scan would
                u.put(t.by_key, key, alloc.id)

    def add_bookings(self, bookings: Sequence[GpuBooking]) -> None:
        """Add each booking (its sequence, in order, is the next), and its model's column rows in one
        step; a booking of a node not known yet waits for the node (`add_node`)."""
        t, u = self.t, self.u
        first = t.booking_seq
        u.set_attr(t, "booking_seq", first + len(bookings))
        by_model: dict[str, list[tuple[str, int, int, int, str, int]]] = {}
        for seq, b in enumerate(bookings, start=first):
            t.bookings[seq] = b
            t.bookings_by_alloc.setdefault(b.allocation_id, []).append(seq)
            node = t.nodes.get(b.node_id)
            if node is None:
                u.append(t.orphans.setdefault(b.node_id, []), seq)
            else:
                row = (b.node_id, b.slot, micros(b.start), end_micros(b.end), b.allocation_id, seq)
                by_model.setdefault(node.model, []).append(row)

        def undo() -> None:  # the table writes above, newest first
            for seq in range(first + len(bookings) - 1, first - 1, -1):
                b = t.bookings.pop(seq)
                t.bookings_by_alloc[b.allocation_id].pop()

        u.call(undo)
        for model, rows in by_model.items():
            cols = t.columns_of(model)
            at = cols.n
            u.call(cols.extend(rows))
            for k, added in enumerate(rows):
                u.put(t.booking_row, added[5], at + k)

    def _add_row(self, seq: int, b: GpuBooking) -> None:
        t, u = self.t, self.u
        cols = t.columns_of(t.nodes[b.node_id].model)
        row = cols.append(b.node_id, b.slot, micros(b.start), end_micros(b.end), b.allocation_id, seq)
        u.call(cols.pop)
        u.put(t.booking_row, seq, row)

    def end_booking(self, seq: int, end: datetime) -> None:
        t, u = self.t, self.u
        old = t.bookings[seq]
        u.put(t.bookings, seq, GpuBooking(old.allocation_id, old.node_id, old.slot, old.start, end))
        row = t.booking_row.get(seq)
        if row is not None:
            u.call(t.columns_of(t.nodes[old.node_id].model).set_end(row, micros(end)))

    def _index_due(self, alloc: Allocation) -> None:
        t, u = self.t, self.u
        at = due_from(alloc) if alloc.state in LIVE else None
        old = t.due_from.get(alloc.id)
        if old == at:
            return
        if old is not None:
            u.remove_sorted(t.due, (old, alloc.id))
            u.pop(t.due_from, alloc.id)
        if at is not None:
            u.insort(t.due, (at, alloc.id))
            u.put(t.due_from, alloc.id, at)

    def add_event(self, event: Event) -> None:
        t, u = self.t, self.u
        u.append(t.events, event)
        u.append(t.events_by_alloc.setdefault(event.allocation_id, []), event)
        u.append(t.events_by_tenant.setdefault(event.tenant_id, []), event)


def find_bookings(
    t: Tables, model: str, start: datetime, end: datetime | None, nodes: Sequence[str] | None
) -> list[GpuBooking]:
    """The bookings of `model` nodes (of `nodes` only, when given) overlapping [start, end), in the order
    they were made; maintenance windows follow, as bookings of every GPU of their node."""
    of_model = t.node_ids_by_model.get(model, {})
    ids: AbstractSet[str] | dict[str, None] = (
        of_model if nodes is None else {n for n in nodes if n in of_model}
    )
    found: list[GpuBooking] = []
    cols = t.columns.get(model)
    if cols is not None and len(cols) and ids:
        start_us = micros(start)
        view = cols.view(start_us)
        mask = view.holding(start_us, None if end is None else micros(end))
        if nodes is not None:
            wanted = np.zeros(len(view.node_ids), dtype=np.bool_)
            wanted[[cols.node_index[n] for n in ids]] = True
            mask &= wanted[view.node]
        rows = t.bookings
        found = [rows[seq] for seq in cols.seqs(start_us, mask).tolist()]
    for w in t.maintenance.values():
        if w.node_id in ids:
            found.extend(b for b in w.bookings(t.nodes[w.node_id].gpus) if b.overlaps(start, end))
    return found


def booked_columns(t: Tables, model: str, since: datetime) -> BookedGpus:
    """`model`'s bookings that may hold a GPU from `since` on (at least those) as columns, maintenance
    windows of its nodes after them (rows of every GPU)."""
    cols = t.columns_of(model)
    view = cols.view(micros(since))
    windows = [w for w in t.maintenance.values() if w.node_id in cols.node_index]
    if not windows:
        return view
    extra = np.array(
        [
            (cols.node_index[w.node_id], slot, micros(w.start), end_micros(w.end), t.owners.code(w.id))
            for w in windows
            for slot in range(t.nodes[w.node_id].gpus)
        ],
        dtype=np.int64,
    ).reshape(-1, 5)
    node, slot, start, end, owner = (
        np.concatenate([have, extra[:, k]])
        for k, have in enumerate((view.node, view.slot, view.start, view.end, view.owner))
    )
    return BookedGpus(view.node_ids, view.owners, view.owner_index, node, slot, start, end, owner, view.memo)


def compact_columns(t: Tables, model: str) -> None:
    """Let `model`'s columns move rows that ended out of what reads scan (`BookingColumns.compact`),
    keeping the index of each booking's row in step. Only with no write pending (an undo names rows)."""
    cols = t.columns.get(model)
    moved = None if cols is None else cols.compact()
    if moved is not None:
        t.booking_row.update(zip(*moved, strict=True))


def due_from(a: Allocation) -> int | None:
    """The first instant (µs) from which the reconciler has something to do for `a`, as it is (None:
    never): `_is_due(a, now)` in the memory store holds exactly for now >= this."""
    if a.state is State.PROVISIONING or a.state is State.ENDING:
        return _ALWAYS
    if a.state is State.SCHEDULED:
        times = [a.start, a.notice_until]
    elif a.state is State.ACTIVE:
        times = [a.end, a.notice_until]
    else:
        return None
    found = [micros(x) for x in times if x is not None]
    return min(found) if found else None


_ALWAYS = -(1 << 62)

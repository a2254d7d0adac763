"""The memory store's tables: dicts with the indexes its queries need, written through an undo log.

A unit of work writes in place and records how to take each write back (`Undo`); leaving without
commit plays the log backwards, which restores every table and index exactly. Nothing is copied per
unit of work, so a unit costs what it reads and writes, not the size of the history.

Indexes (each kept in step by the writes that touch it):
- bookings by allocation; bookings still open (no end) by node; bookings with an end in one list
  sorted by (end, sequence), so a query over [start, …) reads only those ending after `start`;
- events by allocation and by tenant, beside the whole log in append order (billing's feed reads it
  from a cursor);
- live allocations (those that hold or will hold GPUs) and allocations by idempotency key;
- nodes by model and the nodes that are not 'ready'.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from neocloud.control.domain.allocations import LIVE, Allocation, Event, GpuBooking
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.control.domain.quotas import Quota
from neocloud.control.domain.tenancy import Project, Tenant, Token
from neocloud.fleet.fleet import Node
from neocloud.kernel.audit import AuditRecord

_MISSING = object()


class Undo:
    """Writes that can be taken back, newest last."""

    def __init__(self) -> None:
        self._log: list[Callable[[], None]] = []

    def clear(self) -> None:
        self._log.clear()

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
    open_by_node: dict[str, dict[int, None]] = field(default_factory=dict)  # end None
    ended: list[tuple[datetime, int]] = field(default_factory=list)  # (end, sequence), sorted
    events: list[Event] = field(default_factory=list)
    events_by_alloc: dict[str, list[Event]] = field(default_factory=dict)
    events_by_tenant: dict[str, list[Event]] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)
    auth_epoch: int = 0
    maintenance: dict[str, NodeMaintenance] = field(default_factory=dict)
    booking_seq: int = 0


class Writes:
    """The writes on `Tables` that keep its indexes in step, each through `undo`."""

    def __init__(self, t: Tables, undo: Undo) -> None:
        self.t = t
        self.u = undo

    def add_node(self, node: Node) -> None:
        self.u.put(self.t.nodes, node.id, node)
        self.u.append(self.t.nodes_by_model.setdefault(node.model, []), node)
        self.u.put(self.t.node_ids_by_model.setdefault(node.model, {}), node.id, None)

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

    def add_booking(self, booking: GpuBooking) -> None:
        t, u = self.t, self.u
        seq = t.booking_seq
        u.set_attr(t, "booking_seq", seq + 1)
        u.put(t.bookings, seq, booking)
        u.append(t.bookings_by_alloc.setdefault(booking.allocation_id, []), seq)
        self._index(seq, booking)

    def end_booking(self, seq: int, end: datetime) -> None:
        t, u = self.t, self.u
        old = t.bookings[seq]
        if old.end is None:
            u.pop(t.open_by_node[old.node_id], seq)
        else:
            u.remove_sorted(t.ended, (old.end, seq))
        new = replace(old, end=end)
        u.put(t.bookings, seq, new)
        self._index(seq, new)

    def _index(self, seq: int, booking: GpuBooking) -> None:
        if booking.end is None:
            self.u.put(self.t.open_by_node.setdefault(booking.node_id, {}), seq, None)
        else:
            self.u.insort(self.t.ended, (booking.end, seq))

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
    ids: AbstractSet[str] | dict[str, None]
    seqs: list[int] = []
    if nodes is None:
        ids = of_model
        for node_id, open_ in t.open_by_node.items():
            if open_ and node_id in ids:
                seqs.extend(open_)
    else:
        ids = {n for n in nodes if n in of_model}
        for node_id in ids:
            seqs.extend(t.open_by_node.get(node_id, ()))
    rows = t.bookings
    first = bisect.bisect_right(t.ended, (start, _LAST))
    if nodes is None and len(of_model) == len(t.nodes):  # every node is of `model`: no filter
        seqs.extend(seq for _, seq in t.ended[first:])
    else:
        seqs.extend(seq for _, seq in t.ended[first:] if rows[seq].node_id in ids)
    seqs.sort()
    # every candidate ends after `start` (or never): what is left of `overlaps` is the rest of the test
    found = [
        b
        for b in map(rows.__getitem__, seqs)
        if (b.end is None or b.end > b.start) and (end is None or b.start < end)
    ]
    for w in t.maintenance.values():
        if w.node_id in ids:
            found.extend(b for b in w.bookings(t.nodes[w.node_id].gpus) if b.overlaps(start, end))
    return found


_LAST = 1 << 62  # above every booking sequence: bisect past every booking that ends at `start`

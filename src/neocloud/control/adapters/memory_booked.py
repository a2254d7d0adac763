"""The memory store's incremental free-capacity view: each model's bookings as numpy columns
(`control/domain/booked.py`), kept in step with the bookings table by the same writes, through the same
undo log, so a decision reads arrays instead of walking every booking.

A row is appended when a booking is made and its end rewritten when the booking ends; taking a write
back (`Undo`) pops the row or restores the end. Owners (allocation and maintenance-window ids) get a code
the first time they are seen and keep it: a code left by a write taken back owns no row, so it answers
no question.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neocloud.control.domain.booked import BookedGpus, BoolArray, IntArray

_COLUMNS = ("node", "slot", "start", "end", "owner", "seq")


class Owners:
    """Owner ids and their codes, append-only."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.index: dict[str, int] = {}

    def code(self, owner_id: str) -> int:
        found = self.index.get(owner_id)
        if found is None:
            found = self.index[owner_id] = len(self.ids)
            self.ids.append(owner_id)
        return found


class BookingColumns:
    """One model's bookings, one row each, in growing numpy columns; nodes are indexed in the order
    they were added."""

    def __init__(self, owners: Owners) -> None:
        self.owners = owners
        self.node_ids: list[str] = []
        self.node_index: dict[str, int] = {}
        self.n = 0
        self._cols: dict[str, IntArray] = {c: np.zeros(64, dtype=np.int64) for c in _COLUMNS}
        self._view: BookedGpus | None = None
        self._node_tuple: tuple[str, ...] | None = None
        self._memo: dict[str, object] = {}  # kept between views while the node index stays

    # writes: each returns the function that takes it back
    def add_node(self, node_id: str) -> Callable[[], None]:
        self.node_index[node_id] = len(self.node_ids)
        self.node_ids.append(node_id)
        self._node_tuple = self._view = None

        def undo() -> None:
            del self.node_index[self.node_ids.pop()]
            self._node_tuple = self._view = None

        return undo

    def append(self, node_id: str, slot: int, start: int, end: int, owner: str, seq: int) -> int:
        if self.n == len(self._cols["node"]):
            self._cols = {c: np.concatenate([a, np.zeros_like(a)]) for c, a in self._cols.items()}
        row = self.n
        values = (self.node_index[node_id], slot, start, end, self.owners.code(owner), seq)
        for c, v in zip(_COLUMNS, values, strict=True):
            self._cols[c][row] = v
        self.n = row + 1
        self._view = None
        return row

    def extend(self, rows: list[tuple[str, int, int, int, str, int]]) -> Callable[[], None]:
        """Append (node id, slot, start, end, owner, sequence) rows in one step; returns how to take
        them back. Row k of `rows` becomes row `n + k`."""
        first, count = self.n, len(rows)
        while self.n + count > len(self._cols["node"]):
            self._cols = {c: np.concatenate([a, np.zeros_like(a)]) for c, a in self._cols.items()}
        code, index = self.owners.code, self.node_index
        values = np.array(
            [
                (index[node], slot, start, end, code(owner), seq)
                for node, slot, start, end, owner, seq in rows
            ],
            dtype=np.int64,
        ).reshape(count, len(_COLUMNS))
        for k, c in enumerate(_COLUMNS):
            self._cols[c][first : first + count] = values[:, k]
        self.n = first + count
        self._view = None

        def undo() -> None:
            self.n -= count
            self._view = None

        return undo

    def pop(self) -> None:
        self.n -= 1
        self._view = None

    def set_end(self, row: int, end: int) -> Callable[[], None]:
        ends = self._cols["end"]
        old = int(ends[row])
        ends[row] = end
        self._view = None

        def undo() -> None:
            self._cols["end"][row] = old
            self._view = None

        return undo

    # reads
    def view(self) -> BookedGpus:
        """Every row, as columns (views of the store's arrays: valid until the next write)."""
        if self._view is None:
            if self._node_tuple is None:
                self._node_tuple = tuple(self.node_ids)
                self._memo = {}
            n, c = self.n, self._cols
            self._view = BookedGpus(
                self._node_tuple,
                self.owners.ids,
                self.owners.index,
                c["node"][:n],
                c["slot"][:n],
                c["start"][:n],
                c["end"][:n],
                c["owner"][:n],
                self._memo,
            )
        return self._view

    def seqs(self, mask: BoolArray) -> IntArray:
        """The booking sequences of the rows `mask` selects, in the order the bookings were made."""
        return np.sort(self._cols["seq"][: self.n][mask])

"""The memory store's incremental free-capacity view: each model's bookings as numpy columns
(`control/domain/booked.py`), kept in step with the bookings table by the same writes, through the same
undo log, so a decision reads arrays instead of walking every booking.

A row is appended when a booking is made and its end rewritten when the booking ends; taking a write
back (`Undo`) pops the row or restores the end. Owners (allocation and maintenance-window ids) get a code
the first time they are seen and keep it: a code left by a write taken back owns no row, so it answers
no question.

Rows that ended answer no question about a later window, so they are moved out of the columns a read
scans (`compact`, run by the store between units of work, never with a write pending): each row ending
at or before the `floor` (the earliest start asked since the last compaction) goes to an archive. A read
from at or after the floor scans the live rows alone; one from before it (a past window) reads the
archive too, in the rows' original order. A compaction runs once the columns have grown by `SLACK` rows
over twice what the last one kept, so its cost is constant per booking made, and a run that books for
months scans what is live, not its whole history.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neocloud.control.domain.booked import BookedGpus, BoolArray, IntArray

_COLUMNS = ("node", "slot", "start", "end", "owner", "seq", "pos")
_NONE = -(1 << 63)  # no read asked yet; a floor no start is below: every read includes the archive
_NO_READ = 1 << 63  # above any start: the minimum of no reads


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
        self._appended = 0  # rows ever appended: each row's `pos`, its place in the original order
        self._archive: dict[str, IntArray] = {c: np.zeros(0, dtype=np.int64) for c in _COLUMNS}
        self.floor = _NONE  # every archived row ends at or before it (_NONE: reads include the archive)
        self._kept = 0  # live rows the last compaction kept
        self._min_start = _NO_READ  # the earliest start asked since the last compaction
        self._full: tuple[BookedGpus, IntArray] | None = None  # archive and live rows, original order

    SLACK = 1024

    def __len__(self) -> int:
        return self.n + len(self._archive["pos"])

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
        values = (self.node_index[node_id], slot, start, end, self.owners.code(owner), seq, self._appended)
        for c, v in zip(_COLUMNS, values, strict=True):
            self._cols[c][row] = v
        self.n = row + 1
        self._appended += 1
        self._view = self._full = None
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
                (index[node], slot, start, end, code(owner), seq, pos)
                for pos, (node, slot, start, end, owner, seq) in enumerate(rows, start=self._appended)
            ],
            dtype=np.int64,
        ).reshape(count, len(_COLUMNS))
        for k, c in enumerate(_COLUMNS):
            self._cols[c][first : first + count] = values[:, k]
        self.n = first + count
        self._appended += count
        self._view = self._full = None

        def undo() -> None:
            self.n -= count
            self._view = self._full = None

        return undo

    def pop(self) -> None:
        self.n -= 1
        self._view = self._full = None

    def set_end(self, row: int, end: int) -> Callable[[], None]:
        """Rewrite row `row`'s end: a live row, or for `row` < 0 archived row -row-1 (see `compact`)."""
        if row >= 0:
            ends = self._cols["end"]
        else:
            ends, row = self._archive["end"], -row - 1
            if end > self.floor:  # an ended row made to hold again: reads include the archive from now on
                self.floor = _NONE
        old = int(ends[row])
        ends[row] = end
        self._view = self._full = None

        def undo() -> None:
            ends[row] = old
            self._view = self._full = None

        return undo

    def compact(self) -> tuple[list[int], list[int]] | None:
        """Move the rows that end at or before the earliest start asked since the last compaction to the
        archive, when the columns have grown enough (see the module docstring). Only between writes: a
        write's undo names rows by position. Returns (sequences, rows) of the rows that moved (an
        archived one as -1 - its place in the archive), for the store's index, or None."""
        floor = self._min_start
        if self.n < 2 * self._kept + self.SLACK or floor == _NO_READ:
            return None
        if self.floor == _NONE and len(self._archive["pos"]):  # an archived row holds again: merge all back
            every = self._every()
            self._archive = {c: np.zeros(0, dtype=np.int64) for c in _COLUMNS}
        else:
            every = {c: a[: self.n] for c, a in self._cols.items()}
            floor = max(floor, self.floor)
        done = every["end"] <= floor
        kept = int(np.count_nonzero(~done))
        width = max(64, 2 * kept)
        cols = {}
        for c, a in every.items():
            cols[c] = np.zeros(width, dtype=np.int64)
            cols[c][:kept] = a[~done]
        base = len(self._archive["pos"])
        self._archive = {c: np.concatenate([self._archive[c], a[done]]) for c, a in every.items()}
        self._cols, self.n, self._kept = cols, kept, kept
        self.floor, self._min_start = floor, _NO_READ
        self._view = self._full = None
        archived = self._archive["seq"][base:].tolist()
        seqs = cols["seq"][:kept].tolist() + archived
        return seqs, list(range(kept)) + list(range(-1 - base, -1 - base - len(archived), -1))

    def _every(self) -> dict[str, IntArray]:
        """Archived and live rows, in the order they were appended."""
        pos = np.concatenate([self._archive["pos"], self._cols["pos"][: self.n]])
        order = np.argsort(pos, kind="stable")
        return {c: np.concatenate([self._archive[c], a[: self.n]])[order] for c, a in self._cols.items()}

    # reads
    def view(self, start: int) -> BookedGpus:
        """Every row that may hold its GPU from `start` (µs) on, as columns (views of the store's arrays:
        valid until the next write): the live rows, and the archived ones too if `start` is before the
        floor."""
        if start < self._min_start:
            self._min_start = start
        if self._node_tuple is None:
            self._node_tuple = tuple(self.node_ids)
            self._memo = {}
            self._view = self._full = None
        if self._reads_archive(start):
            if self._full is None:
                every = self._every()
                self._full = (self._booked(every, len(every["pos"])), every["seq"])
            return self._full[0]
        if self._view is None:
            self._view = self._booked(self._cols, self.n)
        return self._view

    def _reads_archive(self, start: int) -> bool:
        return bool(len(self._archive["pos"])) and (self.floor == _NONE or start < self.floor)

    def _booked(self, c: dict[str, IntArray], n: int) -> BookedGpus:
        assert self._node_tuple is not None
        return BookedGpus(
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

    def seqs(self, start: int, mask: BoolArray) -> IntArray:
        """The booking sequences of the rows `mask` selects of `view(start)`, in the order the bookings
        were made."""
        if self._reads_archive(start):
            self.view(start)
            assert self._full is not None
            return np.sort(self._full[1][mask])
        return np.sort(self._cols["seq"][: self.n][mask])

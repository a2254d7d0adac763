"""One model's GPU bookings as columns: what admission asks of them, in array work instead of one Python
step per booking.

`BookedGpus` holds, per booking row, the node (an index into `node_ids`), the GPU slot, the start and
end (integer microseconds since the epoch; an open booking ends at NEVER) and the owner (an index into
`owners`: the allocation, or maintenance window, that holds it). Every question is the same one that
`GpuBooking.overlaps` answers, asked of all rows at once: a row holds its GPU at some instant of
[start, end) when it is not empty, ends after `start` and starts before `end`.

The rows are at least every booking that overlaps the window the store was asked for (the memory store
gives all of them); rows outside it answer no question about that window, so a superset changes nothing.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from neocloud.control.domain.allocations import GpuBooking
from neocloud.fleet.fleet import Fleet

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NEVER = int(np.iinfo(np.int64).max)  # the end of an open booking
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def micros(t: datetime) -> int:
    """`t` as integer microseconds since the epoch (exact: no float)."""
    return (t - _EPOCH) // _US


def end_micros(t: datetime | None) -> int:
    return NEVER if t is None else micros(t)


def from_micros(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True, slots=True, eq=False)
class BookedGpus:
    """Booking rows of one model's GPUs (see the module docstring). The arrays are the store's own and
    valid until its next write: read them, never keep or write them. Compared by identity (arrays have
    no single truth value); compare the rows instead."""

    node_ids: Sequence[str]
    owners: Sequence[str]
    owner_index: Mapping[str, int]
    node: IntArray
    slot: IntArray
    start: IntArray
    end: IntArray
    owner: IntArray
    memo: dict[str, object] = field(default_factory=dict)
    """What callers derive from `node_ids` alone (each node's fleet index), kept by a store that keeps
    its node index between views; never part of the answer."""

    @staticmethod
    def of(bookings: Iterable[GpuBooking]) -> BookedGpus:
        """Columns of `bookings` (as a store that reads rows builds them)."""
        node_index: dict[str, int] = {}
        owner_index: dict[str, int] = {}
        rows = [
            (
                node_index.setdefault(b.node_id, len(node_index)),
                b.slot,
                micros(b.start),
                end_micros(b.end),
                owner_index.setdefault(b.allocation_id, len(owner_index)),
            )
            for b in bookings
        ]
        cols = np.array(rows, dtype=np.int64).reshape(len(rows), 5).T
        node, slot, start, end, owner = (np.ascontiguousarray(c) for c in cols)
        return BookedGpus(tuple(node_index), tuple(owner_index), owner_index, node, slot, start, end, owner)

    def __len__(self) -> int:
        return len(self.node)

    def codes(self, owner_ids: Iterable[str]) -> IntArray:
        """The owner codes of those of `owner_ids` that are owners here."""
        where = self.owner_index
        return np.fromiter((where[o] for o in owner_ids if o in where), dtype=np.int64)

    def holding(self, start: int, end: int | None) -> BoolArray:
        """Rows that hold their GPU at some instant of [start, end) (end None: from start on)."""
        mask = (self.end > self.start) & (self.end > start)
        if end is not None:
            mask &= self.start < end
        return mask

    def owned_by(self, codes: IntArray) -> BoolArray:
        """Rows whose owner is one of `codes`."""
        wanted = np.zeros(len(self.owners), dtype=np.bool_)
        wanted[codes] = True
        return wanted[self.owner]

    def yielding(self, codes: IntArray, at: int) -> BookedGpus:
        """The rows with those of owners `codes` (spot, which yields) cut to end by `at`."""
        if len(codes) == 0:
            return self
        cut = self.owned_by(codes) & (self.end > at)
        if not cut.any():
            return self
        end = np.where(cut, np.maximum(self.start, at), self.end)
        return BookedGpus(
            self.node_ids,
            self.owners,
            self.owner_index,
            self.node,
            self.slot,
            self.start,
            end,
            self.owner,
            self.memo,
        )

    def fleet_rows(self, fleet: Fleet) -> IntArray:
        """Each row's node as an index of `fleet` (-1: not a node of it)."""
        hit = self.memo.get("fleet")
        if isinstance(hit, tuple) and hit[0] is fleet and hit[1] is self.node_ids:
            per_node: IntArray = hit[2]
        else:
            index_of = fleet.index_of
            ids = self.node_ids
            per_node = np.fromiter((index_of.get(n, -1) for n in ids), np.int64, len(ids))
            self.memo["fleet"] = (fleet, ids, per_node)
        return per_node[self.node] if len(self.node) else np.zeros(0, dtype=np.int64)


def on_gpus(rows: IntArray, slots: IntArray, fleet: Fleet, gpus: Iterable[tuple[int, int]]) -> BoolArray:
    """Which rows (on fleet nodes `rows`, -1: none, and `slots`) are on one of `gpus`, (fleet node index,
    slot) pairs."""
    width = int(fleet.node_gpus.max()) if len(fleet.nodes) else 1
    chosen = np.zeros(len(fleet.nodes) * width + 1, dtype=np.bool_)  # the last: rows on no fleet node
    for node, slot in gpus:
        chosen[node * width + slot] = True
    keys = np.where(rows >= 0, rows * width + slots, len(chosen) - 1)
    return chosen[keys]

"""Free capacity aggregated per topology domain, kept in step with a `Capacity` incrementally.

For every level of the topology tree (NVLink domain, rack, leaf, SU, fabric, hall, site) and every
domain of it, `DomainFree` holds:

- `nodes_ge[level][d, k]`: nodes of domain d with at least k wholly free GPUs (column 0 is the number
  of nodes, column `width` the nodes whose GPUs are all free if they have `width`); the largest free
  node of d is the highest k with a non-zero count (`largest_free`),
- `free_gpus[level][d]`: wholly free GPUs,
- `pristine[level][d]`: nodes whose GPUs are all free (what a gang that takes a whole NVLink domain
  needs),
- `untouched[level][d]`: nodes with nothing allocated at all (every GPU, all CPU and memory free),
- `partly[level][d]`: nodes with something allocated and some GPU capacity still free: the only
  nodes besides untouched ones that a GPU request can go to.

A decision changes a few nodes; `update` applies their deltas with one vectorised reduction per
distinct level over the changed nodes (their domain ids are sorted, because domains are contiguous
index ranges), so the work is proportional to the nodes a decision touches, never to the fleet.
Levels that partition the nodes exactly as the level below (a GB200 rack is its NVLink domain) share
the arrays of that level. `recount()` recomputes everything from the per-node arrays: the reference
the incremental state is tested against.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from neocloud.fleet.topology import Level, Topology

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class DomainFree:
    """Per-domain free capacity at every topology level (see the module docstring).

    All distinct levels keep their figures in one packed array, one column per domain and one row per
    figure (`nodes_ge` 0..width, then free GPUs, pristine, untouched and partly used nodes), so a change
    is one vectorised update of the columns of the touched domains at every level, and each figure of
    a level is one contiguous run (the searches scan those runs far more often than a decision changes
    them); the named per-level arrays are views into it."""

    __slots__ = (
        "_big",
        "_flat",
        "_ks",
        "_levels",
        "_node_rows",
        "_offsets",
        "_static",
        "free_gpus",
        "gpus",
        "nodes_ge",
        "partly",
        "pristine",
        "scan_level",
        "topology",
        "untouched",
        "width",
    )

    def __init__(
        self,
        topology: Topology,
        node_gpus: IntArray,
        whole_free: IntArray,
        pristine: BoolArray,
        untouched: BoolArray,
        partly: BoolArray,
    ) -> None:
        self.topology = topology
        self.width = int(node_gpus.max()) if len(node_gpus) else 0
        self._levels = _distinct_levels(topology)
        self.scan_level = _scan_level(topology)
        rows = _rows(whole_free, pristine, untouched, partly, self.width)
        owners = sorted(set(self._levels))
        blocks = [_reduce(topology, Level(level), rows) for level in owners]
        offsets = np.cumsum([0] + [len(b) for b in blocks])
        big = np.ascontiguousarray(
            (np.concatenate(blocks) if blocks else np.zeros((0, self.width + 5), dtype=np.int64)).T
        )
        # Each node's column in `big` at every distinct level: ascending by level, so a batch of sorted
        # nodes flattened level by level is sorted as a whole.
        self._node_rows = np.stack(
            [topology.domain_of[level] + offsets[i] for i, level in enumerate(owners)], axis=1
        ).astype(np.int64)
        self._offsets = {level: (int(offsets[i]), int(offsets[i + 1])) for i, level in enumerate(owners)}
        self.gpus: tuple[IntArray, ...] = tuple(
            _reduce(topology, Level(self._levels[lv]), node_gpus) for lv in Level
        )  # static
        self._ks = np.arange(self.width + 1)
        self._static: dict[object, object] = {}
        self._bind(big)

    def _bind(self, big: IntArray) -> None:
        big = np.ascontiguousarray(big)
        self._big = big
        self._flat = big.reshape(-1)  # a view, since `big` is contiguous
        w = self.width
        per = []
        for lv in Level:
            lo, hi = self._offsets[self._levels[lv]]
            per.append(big[:, lo:hi])
        self.nodes_ge: tuple[IntArray, ...] = tuple(a[: w + 1].T for a in per)
        self.free_gpus: tuple[IntArray, ...] = tuple(a[w + 1] for a in per)
        self.pristine: tuple[IntArray, ...] = tuple(a[w + 2] for a in per)
        self.untouched: tuple[IntArray, ...] = tuple(a[w + 3] for a in per)
        self.partly: tuple[IntArray, ...] = tuple(a[w + 4] for a in per)

    def copy(self) -> DomainFree:
        other = DomainFree.__new__(DomainFree)
        other.topology, other.width, other._levels, other.gpus = (
            self.topology,
            self.width,
            self._levels,
            self.gpus,
        )
        other.scan_level, other._node_rows, other._offsets = self.scan_level, self._node_rows, self._offsets
        other._ks, other._static = self._ks, self._static
        other._bind(self._big.copy())
        return other

    def same_as_below(self, level: Level) -> bool:
        """Whether `level` partitions the nodes exactly as a lower level does (a GB200 rack is its
        NVLink domain): every count of it then equals that level's."""
        return self._levels[level] != int(level)

    @property
    def static(self) -> dict[object, object]:
        """Figures derived from the topology alone (never from free capacity), kept for reuse by the
        layers above; shared by copies."""
        return self._static

    def sizes(self, level: Level) -> IntArray:
        """Nodes per domain of `level`."""
        return self.nodes_ge[level][:, 0]

    def largest_free(self, level: Level) -> IntArray:
        """Per domain of `level`: the most wholly free GPUs any one of its nodes has."""
        ge = self.nodes_ge[level]
        return np.asarray((ge[:, 1:] > 0).sum(axis=1), dtype=np.int64)

    def update_one(
        self,
        node: int,
        old_whole: int,
        new_whole: int,
        old_pristine: bool,
        new_pristine: bool,
        old_untouched: bool,
        new_untouched: bool,
        old_partly: bool,
        new_partly: bool,
    ) -> None:
        """`update` for a single node, from scalars: only the figures that change are written (one
        fancy addition into the flattened array)."""
        w = self.width
        step = 1 if new_whole > old_whole else -1
        changes = [(k, step) for k in range(min(old_whole, new_whole) + 1, max(old_whole, new_whole) + 1)]
        if new_whole != old_whole:
            changes.append((w + 1, new_whole - old_whole))
        for column, new, old in (
            (w + 2, new_pristine, old_pristine),
            (w + 3, new_untouched, old_untouched),
            (w + 4, new_partly, old_partly),
        ):
            if new != old:
                changes.append((column, 1 if new else -1))
        if not changes:
            return
        width = self._big.shape[1]
        cols: list[int] = self._node_rows[node].tolist()
        at = [row * width + col for row, _ in changes for col in cols]
        values = [v for _, v in changes for _ in cols]
        self._flat[at] += values  # distinct positions: one per (figure, level)

    def update(
        self,
        nodes: IntArray,
        old_whole: IntArray,
        new_whole: IntArray,
        old_pristine: BoolArray,
        new_pristine: BoolArray,
        old_untouched: BoolArray,
        new_untouched: BoolArray,
        old_partly: BoolArray,
        new_partly: BoolArray,
    ) -> None:
        """Apply the change of `nodes` (sorted, unique) from the old to the new per-node figures."""
        if nodes.size == 0:
            return
        w = self.width
        delta = np.empty((len(nodes), w + 5), dtype=np.int64)
        ks = self._ks
        delta[:, : w + 1] = ks <= new_whole[:, None]
        delta[:, : w + 1] -= ks <= old_whole[:, None]
        delta[:, w + 1] = new_whole - old_whole
        for column, new, old in (
            (w + 2, new_pristine, old_pristine),
            (w + 3, new_untouched, old_untouched),
            (w + 4, new_partly, old_partly),
        ):
            delta[:, column] = new
            delta[:, column] -= old
        if nodes.size <= _FEW:
            levels = self._node_rows.shape[1]
            cols = self._node_rows[nodes].ravel()
            np.add.at(self._big, (slice(None), cols), np.repeat(delta, levels, axis=0).T)  # type: ignore[arg-type]
            return
        # Many nodes: sum them per lowest-level domain, then those sums per domain of each level above
        # (a domain's nodes are contiguous, so each level's ids of the sorted nodes are sorted too).
        ids = self._node_rows[nodes, 0]
        first = _group_starts(ids)
        sums = np.add.reduceat(delta, first, axis=0) if len(first) < len(ids) else delta
        heads, ids = nodes[first], ids[first]
        targets, parts = [ids], [sums]
        for column in range(1, self._node_rows.shape[1]):
            ids = self._node_rows[heads, column]
            first = _group_starts(ids)
            if len(first) < len(ids):
                sums = np.add.reduceat(sums, first, axis=0)
                heads, ids = heads[first], ids[first]
            targets.append(ids)
            parts.append(sums)
        self._big[:, np.concatenate(targets)] += np.concatenate(parts).T


_FEW = 32
"""Updates of at most this many nodes add each node's delta at every level at once (`np.add.at`, which
sums the deltas of nodes sharing a domain); larger ones are summed level by level."""


def _group_starts(ids: IntArray) -> IntArray:
    """Where each run of equal values of the sorted `ids` starts."""
    return np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))


def _distinct_levels(topology: Topology) -> tuple[int, ...]:
    """For each level, the lowest level with exactly the same domains (itself if none below)."""
    owners: list[int] = []
    for level in Level:
        owner = int(level)
        if level > 0:
            below = owners[level - 1]
            if np.array_equal(topology.starts[level], topology.starts[below]):
                owner = below
        owners.append(owner)
    return tuple(owners)


def _scan_level(topology: Topology) -> Level:
    """The lowest level whose domains hold 8 nodes or more on average: the level at which a search for
    nodes skips whole domains (an HGX node is its own NVLink domain; a GB200 rack holds 18 trays)."""
    for level in Level:
        if topology.count(level) * 8 <= max(topology.n_nodes, 1):
            return level
    return Level.SITE


def _rows(
    whole_free: IntArray, pristine: BoolArray, untouched: BoolArray, partly: BoolArray, width: int
) -> IntArray:
    """Per node: [whole_free >= k for k in 0..width], whole_free, pristine, untouched, partly."""
    out = np.empty((len(whole_free), width + 5), dtype=np.int64)
    out[:, : width + 1] = np.arange(width + 1)[None, :] <= whole_free[:, None]
    out[:, width + 1] = whole_free
    out[:, width + 2] = pristine
    out[:, width + 3] = untouched
    out[:, width + 4] = partly
    return out


def _reduce(topology: Topology, level: Level, values: npt.NDArray[np.generic]) -> IntArray:
    if topology.n_nodes == 0:
        shape = (0, *values.shape[1:])
        return np.zeros(shape, dtype=np.int64)
    return np.add.reduceat(values.astype(np.int64), topology.starts[level], axis=0)

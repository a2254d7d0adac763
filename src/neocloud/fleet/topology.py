"""The fleet's topology as a static tree of index ranges, built once.

Nodes are numbered so that every topology domain (an NVLink domain, a rack, a leaf group, a scalable
unit, a fabric, a hall, the site) is one contiguous range of node indices. A question such as "how many
free 8-GPU nodes does each rack have" is then one `np.add.reduceat` over the node arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from neocloud.kernel.errors import InvalidInput

IntArray = npt.NDArray[np.int64]


class Level(IntEnum):
    """Topology levels, innermost first. A gang constrained to a level stays inside one domain of it."""

    NVLINK = 0
    RACK = 1
    LEAF = 2
    SU = 3
    FABRIC = 4
    HALL = 5
    SITE = 6

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Level:
        key = text.strip().lower().replace("_", "-")
        for level, names in _ALIASES.items():
            if key in names:
                return level
        raise InvalidInput(f"unknown topology level {text!r}", details={"known": [lv.label for lv in cls]})


_LABELS = {
    Level.NVLINK: "nvlink",
    Level.RACK: "rack",
    Level.LEAF: "leaf",
    Level.SU: "su",
    Level.FABRIC: "fabric",
    Level.HALL: "hall",
    Level.SITE: "site",
}
_ALIASES = {
    Level.NVLINK: {"nvlink", "nvlink-domain", "nvl"},
    Level.RACK: {"rack"},
    Level.LEAF: {"leaf"},
    Level.SU: {"su", "scalable-unit", "spine", "spine-group"},
    Level.FABRIC: {"fabric"},
    Level.HALL: {"hall"},
    Level.SITE: {"site"},
}


@dataclass(frozen=True, slots=True)
class Topology:
    """Per-level domain ids for every node, and each domain's [start, end) node range.

    `domain_of[level][i]` is the index of node i's domain at `level`; `starts[level][d]`,
    `ends[level][d]` bound domain d; `names[level][d]` is its name.
    """

    n_nodes: int
    domain_of: tuple[IntArray, ...]
    starts: tuple[IntArray, ...]
    ends: tuple[IntArray, ...]
    names: tuple[tuple[str, ...], ...]

    @staticmethod
    def from_paths(paths: Sequence[Sequence[str]]) -> Topology:
        """Build from each node's path, innermost first: (nvlink, rack, leaf, su, fabric, hall, site).

        The paths must already be grouped: every domain's nodes adjacent. Names are qualified by their
        parents, so two halls may both have a "rack-01".
        """
        n = len(paths)
        levels = len(Level)
        domain_of: list[IntArray] = []
        starts: list[IntArray] = []
        ends: list[IntArray] = []
        names: list[tuple[str, ...]] = []
        for level in range(levels):
            ids = np.empty(n, dtype=np.int64)
            level_names: list[str] = []
            level_starts: list[int] = []
            seen: set[tuple[str, ...]] = set()
            previous: tuple[str, ...] | None = None
            for i, path in enumerate(paths):
                key = tuple(path[level:])
                if key != previous:
                    if key in seen:
                        raise InvalidInput(
                            f"nodes of {Level(level).label} {path[level]!r} are not adjacent",
                            details={"node_index": i},
                        )
                    seen.add(key)
                    level_names.append(path[level])
                    level_starts.append(i)
                    previous = key
                ids[i] = len(level_names) - 1
            domain_of.append(ids)
            s = np.asarray(level_starts, dtype=np.int64)
            starts.append(s)
            ends.append(np.append(s[1:], n).astype(np.int64))
            names.append(tuple(level_names))
        return Topology(n, tuple(domain_of), tuple(starts), tuple(ends), tuple(names))

    def count(self, level: Level) -> int:
        return len(self.starts[level])

    def per_domain_sum(self, level: Level, values: npt.NDArray[np.generic]) -> npt.NDArray[np.int64]:
        """Sum of a per-node array over each domain at `level`."""
        if self.n_nodes == 0:
            return np.zeros(0, dtype=np.int64)
        return np.add.reduceat(values.astype(np.int64, copy=False), self.starts[level])

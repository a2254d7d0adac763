"""Free capacity of a fleet, in numpy arrays indexed by node, updated in place for the nodes a decision
touches. GPU capacity is in milli-GPU: a whole free GPU is 1000.

Besides the per-node arrays, a `Capacity` keeps derived state in step: which nodes have all their
GPUs free (`pristine`, computed on demand) or nothing allocated at all (`untouched`), the free capacity aggregated per
topology domain (`domains`, see `neocloud.fleet.domains`), and a short log of the nodes each change
touched (`changed_since`). All of it is built on first use from the arrays and then updated by `take`
and `give_back` for the nodes they touch only, so a decision on a 100k-node fleet costs what it
touches. Code that writes the arrays directly (tests, snapshot builders) must do so before that first
use, or call `recount()` afterwards.
"""

from __future__ import annotations

from bisect import bisect_right
from operator import itemgetter
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from neocloud.fleet.capacity_changes import CapacityChanges
from neocloud.fleet.domains import DomainFree
from neocloud.fleet.fleet import Fleet
from neocloud.fleet.shares import MILLI, NodeShare, sorted_distinct
from neocloud.kernel.errors import Conflict

__all__ = ["MILLI", "Capacity", "NodeShare"]

_GENERATION = itemgetter(0)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
A = TypeVar("A", IntArray, BoolArray)


class Capacity(CapacityChanges):
    """The mutable free state of one fleet.

    `gpu_free[i, s]` is the free milli-GPU of slot s on node i (0 for slots the node does not have);
    `whole_free[i]` counts wholly free GPUs and `milli_free[i]` sums free milli-GPU, both kept in step.
    `schedulable[i]` is False for cordoned, draining or failed nodes.
    `version[i]` is the `generation` at which node i last changed, so a stateful scorer finds the nodes
    touched since it last looked in one comparison (or, for recent changes, from `changed_since`).
    Change free capacity only through `take` and `give_back`, which keep all of these in step.
    """

    __slots__ = (
        "_domains",
        "_log",
        "_profile_gpus",
        "_profile_untouched",
        "_untouched",
        "cpu_free",
        "fleet",
        "gpu_free",
        "mem_free",
        "memo",
        "milli_free",
        "schedulable",
        "version",
        "whole_free",
    )

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        n = len(fleet.nodes)
        self.gpu_free: npt.NDArray[np.int32] = fleet.fresh_gpu_free.copy()
        self.cpu_free: IntArray = fleet.node_cpu.copy()
        self.mem_free: IntArray = fleet.node_memory.copy()
        self.whole_free: IntArray = fleet.node_gpus.copy()
        self.milli_free: IntArray = fleet.node_milli.copy()
        self.schedulable: BoolArray = np.ones(n, dtype=np.bool_)
        self.version: IntArray = np.zeros(n, dtype=np.int64)
        self.generation = 0
        self._untouched: BoolArray | None = None
        self._domains: DomainFree | None = None
        self._profile_untouched: IntArray | None = None
        self._profile_gpus: IntArray | None = None
        self._log: list[tuple[int, IntArray]] = []
        self.memo: dict[object, object] = {}
        """State that layers above derive from this capacity and keep in step through `changed_since`
        (placement's kept feasible masks); never copied."""

    @classmethod
    def with_gpus_taken(cls, fleet: Fleet, nodes: IntArray, slots: IntArray) -> Capacity:
        """A fresh capacity with GPU `slots[k]` of node `nodes[k]` wholly taken (a pair may repeat): the
        same state as one `take` of those GPUs on a fresh capacity, written in one vectorised step.
        Raises Conflict if a node has no such slot."""
        cap = cls(fleet)
        if len(nodes) == 0:
            return cap
        if int(nodes.min()) < 0 or int(nodes.max()) >= len(fleet.nodes):
            raise Conflict("no node with that index")
        if bool((slots < 0).any()) or bool((slots >= fleet.node_gpus[nodes]).any()):
            k = int(np.argmax((slots < 0) | (slots >= fleet.node_gpus[nodes])))
            raise Conflict(f"node {int(nodes[k])} has no GPU slot {int(slots[k])}")
        cap.gpu_free[nodes, slots] = 0
        changed = np.flatnonzero(np.bincount(nodes, minlength=len(fleet.nodes)))
        rows = cap.gpu_free[changed]
        cap.whole_free[changed] = np.count_nonzero(rows == MILLI, axis=1)
        cap.milli_free[changed] = rows.sum(axis=1, dtype=np.int64)
        cap.generation = 1
        cap.version[changed] = 1
        cap._log.append((1, changed.astype(np.int64)))
        return cap

    def copy(self) -> Capacity:
        other = Capacity.__new__(Capacity)
        other.fleet = self.fleet
        other.gpu_free = self.gpu_free.copy()
        other.cpu_free = self.cpu_free.copy()
        other.mem_free = self.mem_free.copy()
        other.whole_free = self.whole_free.copy()
        other.milli_free = self.milli_free.copy()
        other.schedulable = self.schedulable.copy()
        other.version = self.version.copy()
        other.generation = self.generation
        other._untouched = None if self._untouched is None else self._untouched.copy()
        other._domains = None if self._domains is None else self._domains.copy()
        other._profile_untouched = None if self._profile_untouched is None else self._profile_untouched.copy()
        other._profile_gpus = self._profile_gpus
        other._log = list(self._log)  # the logged arrays are never written
        other.memo = {}
        return other

    # -- derived state ---------------------------------------------------------------------------
    @property
    def pristine(self) -> BoolArray:
        """Nodes whose GPUs are all wholly free (CPU and memory may be in use)."""
        return np.asarray(self.whole_free == self.fleet.node_gpus, dtype=np.bool_)

    def untouched(self) -> BoolArray:
        """Nodes with nothing allocated: every GPU, all CPU and memory free. Read-only."""
        if self._untouched is None:
            self._untouched = self._untouched_of(np.arange(len(self.cpu_free)))
        return _readonly(self._untouched)

    @property
    def domains(self) -> DomainFree:
        """Free capacity per topology domain, at every level."""
        if self._domains is None:
            f = self.fleet
            untouched = self.untouched()
            partly = ~untouched & (self.milli_free > 0)
            self._domains = DomainFree(
                f.topology, f.node_gpus, self.whole_free, self.pristine, untouched, partly
            )
        return self._domains

    def profile_gpus(self) -> IntArray:
        """GPUs of a node of each node profile (`Fleet.node_profile`). Read-only."""
        if self._profile_gpus is None:
            f = self.fleet
            gpus = np.zeros(f.profile_count, dtype=np.int64)
            gpus[f.node_profile] = f.node_gpus
            gpus.flags.writeable = False
            self._profile_gpus = gpus
        return self._profile_gpus

    def untouched_per_profile(self) -> IntArray:
        """Untouched nodes of each node profile (`Fleet.node_profile`). Read-only."""
        if self._profile_untouched is None:
            f = self.fleet
            self._profile_untouched = np.bincount(
                f.node_profile[self.untouched()], minlength=f.profile_count
            ).astype(np.int64)
        return _readonly(self._profile_untouched)

    def recount(self) -> None:
        """Rebuild the derived state from the per-node arrays (after writing them directly)."""
        self.whole_free[:] = np.count_nonzero(self.gpu_free == MILLI, axis=1)
        self.milli_free[:] = self.gpu_free.sum(axis=1, dtype=np.int64)
        self._untouched = None
        self._domains = None
        self._profile_untouched = None
        self.memo.clear()
        self.generation += 1
        self.version[:] = self.generation
        self._log.clear()

    def changed_since(self, generation: int) -> IntArray:
        """The nodes (sorted, distinct) changed after `generation`."""
        if generation >= self.generation:
            return np.zeros(0, dtype=np.int64)
        if self._log and self._log[0][0] <= generation + 1:
            start = bisect_right(self._log, generation, key=_GENERATION)  # the log is in generation order
            parts = [nodes for _, nodes in self._log[start:]]
            if len(parts) == 1:
                return parts[0]
            return sorted_distinct(np.concatenate(parts))
        return np.flatnonzero(self.version > generation)

    def _pristine_of(self, nodes: IntArray) -> BoolArray:
        return np.asarray(self.whole_free[nodes] == self.fleet.node_gpus[nodes], dtype=np.bool_)

    def _untouched_of(self, nodes: IntArray) -> BoolArray:
        f = self.fleet
        return np.asarray(
            (self.milli_free[nodes] == f.node_gpus[nodes] * MILLI)
            & (self.cpu_free[nodes] == f.node_cpu[nodes])
            & (self.mem_free[nodes] == f.node_memory[nodes]),
            dtype=np.bool_,
        )

    def allocated_milli(self) -> int:
        return int(self.fleet.node_gpus.sum()) * MILLI - int(self.milli_free.sum())


def _readonly(a: A) -> A:
    view = a.view()
    view.flags.writeable = False
    return view

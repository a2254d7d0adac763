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

from neocloud.fleet.domains import DomainFree
from neocloud.fleet.fleet import Fleet
from neocloud.fleet.shares import (
    MILLI,
    NodeShare,
    UniformShares,
    batch,
    node_sums,
    slot_sums,
    sorted_distinct,
)
from neocloud.kernel.errors import Conflict

__all__ = ["MILLI", "Capacity", "NodeShare"]

_GENERATION = itemgetter(0)
_LOG_ENTRIES = 64  # changes remembered for `changed_since`; older watchers rescan `version`

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
A = TypeVar("A", IntArray, BoolArray)


class Capacity:
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
        "generation",
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
        width = int(fleet.node_gpus.max()) if n else 0
        slots = np.arange(max(width, 1))
        self.gpu_free: npt.NDArray[np.int32] = np.where(
            slots[None, :] < fleet.node_gpus[:, None], MILLI, 0
        ).astype(np.int32)
        self.cpu_free: IntArray = fleet.node_cpu.copy()
        self.mem_free: IntArray = fleet.node_memory.copy()
        self.whole_free: IntArray = fleet.node_gpus.copy()
        self.milli_free: IntArray = fleet.node_gpus * MILLI
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

    # -- changes ---------------------------------------------------------------------------------
    def take(self, shares: tuple[NodeShare, ...]) -> None:
        """Commit shares; raises Conflict and changes nothing if any GPU, CPU or memory would go negative
        (shares of one call on the same node or GPU are summed before checking)."""
        if not shares:
            return
        if len(shares) == 1:
            self._one(shares[0], -1)
            return
        if type(shares) is UniformShares and self._uniform(shares, -1):
            return
        b = batch(shares, self.fleet.node_gpus, self.gpu_free.shape[1])
        gpu_use = slot_sums(b, self.gpu_free.shape[1])
        if gpu_use is not None:
            nodes, slots, milli = gpu_use
            short = self.gpu_free[nodes, slots] < milli
            if short.any():
                i = int(np.argmax(short))
                raise Conflict(
                    f"node {int(nodes[i])} slot {int(slots[i])} has {int(self.gpu_free[nodes[i], slots[i]])} "
                    f"milli-GPU free, {int(milli[i])} asked"
                )
        cpu, mem = node_sums(b, b.cpu), node_sums(b, b.mem)
        lacking = (self.cpu_free[b.changed] < cpu) | (self.mem_free[b.changed] < mem)
        if lacking.any():
            raise Conflict(f"node {int(b.changed[np.argmax(lacking)])} lacks CPU or memory")
        self._apply(b.changed, gpu_use, -cpu, -mem, -1)

    def give_back(self, shares: tuple[NodeShare, ...]) -> None:
        """Release shares taken earlier: the exact inverse of `take`. Raises Conflict and changes nothing
        if a GPU, CPU or memory would exceed the node's capacity."""
        if not shares:
            return
        if len(shares) == 1:
            self._one(shares[0], 1)
            return
        if type(shares) is UniformShares and self._uniform(shares, 1):
            return
        b = batch(shares, self.fleet.node_gpus, self.gpu_free.shape[1])
        gpu_use = slot_sums(b, self.gpu_free.shape[1])
        if gpu_use is not None:
            nodes, slots, milli = gpu_use
            over = self.gpu_free[nodes, slots] + milli > MILLI
            if over.any():
                i = int(np.argmax(over))
                raise Conflict(f"release of node {int(nodes[i])} slot {int(slots[i])} exceeds its capacity")
        cpu, mem = node_sums(b, b.cpu), node_sums(b, b.mem)
        f = self.fleet
        over_node = (self.cpu_free[b.changed] + cpu > f.node_cpu[b.changed]) | (
            self.mem_free[b.changed] + mem > f.node_memory[b.changed]
        )
        if over_node.any():
            raise Conflict(
                f"release of node {int(b.changed[np.argmax(over_node)])} exceeds its CPU or memory"
            )
        self._apply(b.changed, gpu_use, cpu, mem, 1)

    def _one(self, s: NodeShare, sign: int) -> None:
        """`take` (sign -1) or `give_back` (sign 1) of a single share, checked and computed on Python
        numbers (each per-node figure read once)."""
        node = s.node
        if not 0 <= node < len(self.cpu_free):
            raise Conflict(f"no node with index {node}")
        if s.cpu_milli < 0 or s.memory_mib < 0:
            raise Conflict("a share asks for negative CPU or memory")
        f = self.fleet
        slots = s.gpu_slots
        values: list[int] = []
        if slots:
            if len(set(slots)) != len(slots):
                raise Conflict(f"node {node}: a GPU slot appears twice")
            if not 0 <= s.milli <= MILLI:
                raise Conflict(f"a share's milli-GPU per slot must be in 0..{MILLI}")
            have = int(f.node_gpus[node])
            values = self.gpu_free[node].tolist()
            for slot in slots:
                if not 0 <= slot < have:
                    raise Conflict(f"node {node} has no GPU slot {slot}")
                free = values[slot]
                if sign < 0 and free < s.milli:
                    raise Conflict(f"node {node} slot {slot} has {free} milli-GPU free, {s.milli} asked")
                if sign > 0 and free + s.milli > MILLI:
                    raise Conflict(f"release of node {node} slot {slot} exceeds its capacity")
        cpu, mem = int(self.cpu_free[node]), int(self.mem_free[node])
        node_cpu, node_mem = int(f.node_cpu[node]), int(f.node_memory[node])
        if sign < 0 and (cpu < s.cpu_milli or mem < s.memory_mib):
            raise Conflict(f"node {node} lacks CPU or memory")
        if sign > 0 and (cpu + s.cpu_milli > node_cpu or mem + s.memory_mib > node_mem):
            raise Conflict(f"release of node {node} exceeds its CPU or memory")
        kept = self._untouched
        old_whole, old_milli = int(self.whole_free[node]), int(self.milli_free[node])
        whole, milli = old_whole, old_milli
        if slots:
            for slot in slots:
                values[slot] += sign * s.milli
            self.gpu_free[node] = values
            whole, milli = values.count(MILLI), sum(values)
            self.whole_free[node] = whole
            self.milli_free[node] = milli
        cpu += sign * s.cpu_milli
        mem += sign * s.memory_mib
        self.cpu_free[node] = cpu
        self.mem_free[node] = mem
        self.generation += 1
        self.version[node] = self.generation
        self._log.append((self.generation, np.array([node], dtype=np.int64)))
        if len(self._log) > _LOG_ENTRIES:
            del self._log[0]
        if kept is None:
            return
        gpus = int(f.node_gpus[node])
        old_untouched = bool(kept[node])
        untouched = milli == gpus * MILLI and cpu == node_cpu and mem == node_mem
        kept[node] = untouched
        if self._profile_untouched is not None and untouched != old_untouched:
            self._profile_untouched[f.node_profile[node]] += 1 if untouched else -1
        if self._domains is not None:
            self._domains.update_one(
                node,
                old_whole,
                whole,
                old_whole == gpus,
                whole == gpus,
                old_untouched,
                untouched,
                not old_untouched and old_milli > 0,
                not untouched and milli > 0,
            )

    def _uniform(self, shares: UniformShares, sign: int) -> bool:
        """`take` (sign -1) or `give_back` (sign 1) of a gang's uniform shares on distinct nodes in
        increasing order (what `place_gang` builds), checked and applied as arrays. False, with nothing
        changed, when the shares are not of that form or fail a check: the general path then runs and
        names the error."""
        nodes = shares.nodes
        first = shares[0]
        slots, milli, cpu, mem = first.gpu_slots, first.milli, first.cpu_milli, first.memory_mib
        if cpu < 0 or mem < 0 or not 0 <= milli <= MILLI:
            return False
        if int(nodes[0]) < 0 or int(nodes[-1]) >= len(self.cpu_free):
            return False
        if len(nodes) > 1 and not bool((nodes[1:] > nodes[:-1]).all()):
            return False  # increasing: distinct, and in range when the first and last are
        f = self.fleet
        rows = None
        gpus = f.node_gpus[nodes]
        if slots:
            rows = self.gpu_free[nodes]
            if len(set(slots)) != len(slots) or min(slots) < 0 or max(slots) >= int(gpus.min()):
                return False
            cols = list(slots)
            after = rows[:, cols] + np.int32(sign * milli)
            if bool((after < 0).any()) if sign < 0 else bool((after > MILLI).any()):
                return False
            rows[:, cols] = after
        cpu_now = self.cpu_free[nodes] + sign * cpu if cpu else None
        mem_now = self.mem_free[nodes] + sign * mem if mem else None
        if cpu_now is not None and bool(
            (cpu_now < 0).any() if sign < 0 else (cpu_now > f.node_cpu[nodes]).any()
        ):
            return False
        if mem_now is not None and bool(
            (mem_now < 0).any() if sign < 0 else (mem_now > f.node_memory[nodes]).any()
        ):
            return False
        if rows is not None:
            self.gpu_free[nodes] = rows
        # Taking GPU capacity from every node leaves none of them untouched.
        none = np.zeros(len(nodes), dtype=np.bool_) if sign < 0 and slots and milli else None
        self._commit(nodes, rows, cpu_now, mem_now, gpus, none)
        return True

    def _apply(
        self,
        nodes: IntArray,
        gpu_use: tuple[IntArray, IntArray, IntArray] | None,
        cpu: IntArray,
        mem: IntArray,
        sign: int,
    ) -> None:
        """Add `sign` x the GPU use and `cpu`, `mem` (already signed) to `nodes` (sorted, distinct)."""
        rows = None
        if gpu_use is not None:
            g_nodes, g_slots, g_milli = gpu_use
            self.gpu_free[g_nodes, g_slots] += (sign * g_milli).astype(np.int32)
            rows = self.gpu_free[nodes]
        self._commit(nodes, rows, self.cpu_free[nodes] + cpu, self.mem_free[nodes] + mem)

    def _commit(
        self,
        nodes: IntArray,
        rows: npt.NDArray[np.int32] | None,
        cpu_now: IntArray | None,
        mem_now: IntArray | None,
        gpus: IntArray | None = None,
        untouched_now: BoolArray | None = None,
    ) -> None:
        """Write the new CPU and memory of `nodes` (sorted, distinct; None: unchanged), whose GPU rows
        are now `rows` (already written to `gpu_free`; None: unchanged), and bring the derived state in
        step (each per-node figure of `nodes` read once). `gpus` (the nodes' GPU counts) and
        `untouched_now` (their new untouched flags) may be given when the caller knows them."""
        f = self.fleet
        kept = self._untouched
        domains = self._domains
        if gpus is None:
            gpus = f.node_gpus[nodes]
        if kept is not None:
            old_untouched = kept[nodes]
            if domains is not None:
                old_whole = self.whole_free[nodes]
                old_partly = ~old_untouched & (self.milli_free[nodes] > 0)
        if rows is not None:
            whole = np.count_nonzero(rows == MILLI, axis=1).astype(np.int64)
            milli = rows.sum(axis=1, dtype=np.int64)
            self.whole_free[nodes] = whole
            self.milli_free[nodes] = milli
        else:
            whole, milli = self.whole_free[nodes], self.milli_free[nodes]
        if cpu_now is not None:
            self.cpu_free[nodes] = cpu_now
        if mem_now is not None:
            self.mem_free[nodes] = mem_now
        self.generation += 1
        self.version[nodes] = self.generation
        self._log.append((self.generation, nodes))
        if len(self._log) > _LOG_ENTRIES:
            del self._log[0]
        if kept is not None:
            new_untouched = untouched_now
            if new_untouched is None:
                cpu = self.cpu_free[nodes] if cpu_now is None else cpu_now
                mem = self.mem_free[nodes] if mem_now is None else mem_now
                new_untouched = (
                    (milli == gpus * MILLI) & (cpu == f.node_cpu[nodes]) & (mem == f.node_memory[nodes])
                )
            kept[nodes] = new_untouched
            if self._profile_untouched is not None:
                step = new_untouched.astype(np.int64) - old_untouched
                if step.any():
                    np.add.at(self._profile_untouched, f.node_profile[nodes], step)
            if domains is not None:
                domains.update(
                    nodes,
                    old_whole,
                    whole,
                    old_whole == gpus,
                    whole == gpus,
                    old_untouched,
                    new_untouched,
                    old_partly,
                    ~new_untouched & (milli > 0),
                )

    def allocated_milli(self) -> int:
        return int(self.fleet.node_gpus.sum()) * MILLI - int(self.milli_free.sum())


def _readonly(a: A) -> A:
    view = a.view()
    view.flags.writeable = False
    return view

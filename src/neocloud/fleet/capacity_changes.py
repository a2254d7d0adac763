"""How a `Capacity` changes: `take` and `give_back`, checked before anything is written, and the
derived state (untouched flags, per-profile counts, per-domain aggregates, the change log) brought in
step for the nodes a change touches. A single share and a gang's uniform shares take paths of their
own (scalars; whole arrays); any other batch of shares is laid out by `neocloud.fleet.shares`.

`CapacityChanges` is the part of `Capacity` that changes it; `neocloud.fleet.capacity` holds the state
and its derived views."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from neocloud.fleet.domains import DomainFree
from neocloud.fleet.fleet import Fleet
from neocloud.fleet.shares import MILLI, NodeShare, UniformShares, batch, node_sums, slot_sums
from neocloud.kernel.errors import Conflict

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
LOG_ENTRIES = 64  # changes remembered for `changed_since`; older watchers rescan `version`


class CapacityChanges:
    """`take` and `give_back` of `Capacity` (see the module docstring)."""

    __slots__ = ("generation",)
    generation: int
    fleet: Fleet
    gpu_free: npt.NDArray[np.int32]
    cpu_free: IntArray
    mem_free: IntArray
    whole_free: IntArray
    milli_free: IntArray
    version: IntArray
    _untouched: BoolArray | None
    _domains: DomainFree | None
    _profile_untouched: IntArray | None
    _log: list[tuple[int, IntArray]]

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
        if len(self._log) > LOG_ENTRIES:
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
        if len(self._log) > LOG_ENTRIES:
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

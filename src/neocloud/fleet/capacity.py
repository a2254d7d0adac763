"""Free capacity of a fleet, in numpy arrays indexed by node, updated in place for the nodes a decision
touches. GPU capacity is in milli-GPU: a whole free GPU is 1000."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neocloud.fleet.fleet import Fleet
from neocloud.kernel.errors import Conflict

MILLI = 1000


@dataclass(frozen=True, slots=True)
class NodeShare:
    """What a placement takes on one node: `milli` from each of `gpu_slots`, plus CPU and memory."""

    node: int
    gpu_slots: tuple[int, ...]
    milli: int
    cpu_milli: int
    memory_mib: int


class Capacity:
    """The mutable free state of one fleet.

    `gpu_free[i, s]` is the free milli-GPU of slot s on node i (0 for slots the node does not have);
    `whole_free[i]` counts wholly free GPUs and `milli_free[i]` sums free milli-GPU, both kept in step.
    `schedulable[i]` is False for cordoned, draining or failed nodes.
    `version[i]` is the `generation` at which node i last changed, so a stateful scorer finds the nodes
    touched since it last looked in one comparison. Change free capacity only through `take` and
    `give_back`, which keep all of these in step.
    """

    __slots__ = (
        "cpu_free", "fleet", "generation", "gpu_free", "mem_free", "milli_free", "schedulable", "version",
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
        self.cpu_free: npt.NDArray[np.int64] = fleet.node_cpu.copy()
        self.mem_free: npt.NDArray[np.int64] = fleet.node_memory.copy()
        self.whole_free: npt.NDArray[np.int64] = fleet.node_gpus.copy()
        self.milli_free: npt.NDArray[np.int64] = fleet.node_gpus * MILLI
        self.schedulable: npt.NDArray[np.bool_] = np.ones(n, dtype=np.bool_)
        self.version: npt.NDArray[np.int64] = np.zeros(n, dtype=np.int64)
        self.generation = 0

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
        return other

    def _refresh(self, node: int) -> None:
        row = self.gpu_free[node]
        self.whole_free[node] = int(np.count_nonzero(row == MILLI))
        self.milli_free[node] = int(row.sum())
        self.generation += 1
        self.version[node] = self.generation

    def take(self, shares: tuple[NodeShare, ...]) -> None:
        """Commit shares; raises Conflict and changes nothing if any GPU, CPU or memory would go negative."""
        for s in shares:
            self._check(s)
        for s in shares:
            if s.gpu_slots:
                self.gpu_free[s.node, list(s.gpu_slots)] -= s.milli
            self.cpu_free[s.node] -= s.cpu_milli
            self.mem_free[s.node] -= s.memory_mib
            self._refresh(s.node)

    def give_back(self, shares: tuple[NodeShare, ...]) -> None:
        """Release shares taken earlier: the exact inverse of `take`."""
        gpus = self.fleet.node_gpus
        for s in shares:
            row = self.gpu_free[s.node]
            for slot in s.gpu_slots:
                if slot >= gpus[s.node] or row[slot] + s.milli > MILLI:
                    raise Conflict(f"release of node {s.node} slot {slot} exceeds its capacity")
        for s in shares:
            if s.gpu_slots:
                self.gpu_free[s.node, list(s.gpu_slots)] += s.milli
            self.cpu_free[s.node] += s.cpu_milli
            self.mem_free[s.node] += s.memory_mib
            self._refresh(s.node)

    def _check(self, s: NodeShare) -> None:
        if not 0 <= s.node < len(self.cpu_free):
            raise Conflict(f"no node with index {s.node}")
        if len(set(s.gpu_slots)) != len(s.gpu_slots):
            raise Conflict(f"node {s.node}: a GPU slot appears twice")
        row = self.gpu_free[s.node]
        for slot in s.gpu_slots:
            if slot >= self.fleet.node_gpus[s.node] or row[slot] < s.milli:
                raise Conflict(f"node {s.node} slot {slot} has {int(row[slot]) if slot < len(row) else 0} milli-GPU free, {s.milli} asked")
        if self.cpu_free[s.node] < s.cpu_milli or self.mem_free[s.node] < s.memory_mib:
            raise Conflict(f"node {s.node} lacks CPU or memory")

    def untouched(self) -> npt.NDArray[np.bool_]:
        """Nodes with nothing allocated: every GPU, all CPU and memory free."""
        f = self.fleet
        whole = self.milli_free == f.node_gpus * MILLI
        return np.asarray(whole & (self.cpu_free == f.node_cpu) & (self.mem_free == f.node_memory), dtype=np.bool_)

    def allocated_milli(self) -> int:
        return int(self.fleet.node_gpus.sum()) * MILLI - int(self.milli_free.sum())

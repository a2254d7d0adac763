"""The fleet: halls, fabrics, scalable units, racks, NVLink domains and nodes, as an operator sees them.

The object model is for clarity at the edges (files, API, console); `Fleet.topology` and the per-node
arrays are for the placement hot path (STYLE.md example 9).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from neocloud.fleet.shares import MILLI
from neocloud.fleet.topology import Level, Topology
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import CATALOG, GpuModel
from neocloud.kernel.ids import NodeId


@dataclass(frozen=True, slots=True)
class Node:
    """One schedulable machine: an HGX node, or one compute tray of an NVL72 rack."""

    id: NodeId
    model: str
    gpus: int
    cpu_milli: int
    memory_mib: int
    rack: str
    nvlink: str
    leaf: str = "leaf-0"
    su: str = "su-0"
    fabric: str = "fabric-0"
    hall: str = "hall-0"
    site: str = "site-0"

    def path(self) -> tuple[str, str, str, str, str, str, str]:
        """Innermost first, in `Level` order."""
        return (self.nvlink, self.rack, self.leaf, self.su, self.fabric, self.hall, self.site)

    def path_text(self) -> str:
        return "/".join(reversed(self.path()))


@dataclass(frozen=True, slots=True)
class Rack:
    name: str
    hall: str
    power_kw: float


@dataclass(frozen=True, slots=True)
class Hall:
    """A hall is a power domain: IT power is what its racks draw, facility power adds cooling (PUE)."""

    name: str
    pue: float
    power_budget_mw: float | None = None


@dataclass(frozen=True, slots=True)
class Fabric:
    """A leaf/spine network. Switch counts are what the operator declares (0 = not described)."""

    name: str
    hall: str
    leaf_switches: int = 0
    spine_switches: int = 0


@dataclass(frozen=True)
class Fleet:
    name: str
    nodes: tuple[Node, ...]
    racks: tuple[Rack, ...] = ()
    halls: tuple[Hall, ...] = ()
    models: tuple[str, ...] = field(default=())
    fabrics: tuple[Fabric, ...] = ()

    @staticmethod
    def build(
        name: str,
        nodes: Iterable[Node],
        racks: Iterable[Rack] = (),
        halls: Iterable[Hall] = (),
        fabrics: Iterable[Fabric] = (),
    ) -> Fleet:
        """Validate and group nodes so each topology domain is a contiguous index range.

        Grouping keeps the order in which domains first appear, so rack-2 stays before rack-10.
        """
        node_list = list(nodes)
        if not node_list:
            raise InvalidInput("a fleet needs at least one node")
        ids: set[str] = set()
        for n in node_list:
            if n.id in ids:
                raise InvalidInput(f"duplicate node id {n.id!r}")
            ids.add(n.id)
            if n.model not in CATALOG:
                raise InvalidInput(
                    f"node {n.id!r}: unknown GPU model {n.model!r}", details={"known": sorted(CATALOG)}
                )
            if n.gpus < 0 or n.cpu_milli < 0 or n.memory_mib < 0:
                raise InvalidInput(f"node {n.id!r}: negative capacity")
        order: list[dict[tuple[str, ...], int]] = [{} for _ in Level]

        def key(n: Node) -> tuple[int, ...]:
            path = n.path()
            out = []
            for level in reversed(Level):
                k = tuple(path[level:])
                out.append(order[level].setdefault(k, len(order[level])))
            return tuple(out)

        node_list.sort(key=key)
        models = tuple(sorted({n.model for n in node_list}))
        return Fleet(name, tuple(node_list), tuple(racks), tuple(halls), models, tuple(fabrics))

    @cached_property
    def topology(self) -> Topology:
        return Topology.from_paths([n.path() for n in self.nodes])

    @cached_property
    def node_model(self) -> npt.NDArray[np.int64]:
        """Index into `self.models` for every node."""
        index = {m: i for i, m in enumerate(self.models)}
        return np.fromiter((index[n.model] for n in self.nodes), dtype=np.int64, count=len(self.nodes))

    @cached_property
    def node_gpus(self) -> npt.NDArray[np.int64]:
        return np.fromiter((n.gpus for n in self.nodes), dtype=np.int64, count=len(self.nodes))

    @cached_property
    def node_cpu(self) -> npt.NDArray[np.int64]:
        return np.fromiter((n.cpu_milli for n in self.nodes), dtype=np.int64, count=len(self.nodes))

    @cached_property
    def node_memory(self) -> npt.NDArray[np.int64]:
        return np.fromiter((n.memory_mib for n in self.nodes), dtype=np.int64, count=len(self.nodes))

    @cached_property
    def fresh_gpu_free(self) -> npt.NDArray[np.int32]:
        """Free milli-GPU per (node, slot) of the fleet with nothing taken (0 for slots a node does not
        have): what every new `Capacity` copies. Read-only."""
        n = len(self.nodes)
        width = int(self.node_gpus.max()) if n else 0
        slots = np.arange(max(width, 1))
        free = np.where(slots[None, :] < self.node_gpus[:, None], MILLI, 0).astype(np.int32)
        free.flags.writeable = False
        return free

    @cached_property
    def node_milli(self) -> npt.NDArray[np.int64]:
        """Each node's GPUs in milli-GPU. Read-only."""
        milli = self.node_gpus * MILLI
        milli.flags.writeable = False
        return milli

    @cached_property
    def node_profile(self) -> npt.NDArray[np.int64]:
        """Nodes of one profile (same model, GPU count, CPU and memory) are interchangeable while untouched;
        this numbers the profiles 0..P-1 in order of first appearance."""
        keys = np.stack([self.node_model, self.node_gpus, self.node_cpu, self.node_memory], axis=1)
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        rank = np.empty(len(first), dtype=np.int64)
        rank[np.argsort(first)] = np.arange(len(first))
        return rank[inverse.reshape(-1)]

    @cached_property
    def profile_count(self) -> int:
        return int(self.node_profile.max()) + 1 if len(self.nodes) else 0

    @cached_property
    def index_of(self) -> dict[str, int]:
        return {n.id: i for i, n in enumerate(self.nodes)}

    def model(self, name: str) -> GpuModel:
        return CATALOG[name]

    def gpu_count(self) -> int:
        return int(self.node_gpus.sum())

    def gpus_by_model(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for n in self.nodes:
            out[n.model] = out.get(n.model, 0) + n.gpus
        return out

    def it_power_kw(self) -> float:
        """IT power: the racks' budgets where given, else the nodes' maximum draw."""
        if self.racks:
            return sum(r.power_kw for r in self.racks)
        return sum(CATALOG[n.model].node_max_kw for n in self.nodes)

    def facility_power_kw(self) -> float:
        """IT power times each hall's PUE (1.0 where the fleet names no halls)."""
        if not self.halls:
            return self.it_power_kw()
        pue = {h.name: h.pue for h in self.halls}
        if self.racks:
            return sum(r.power_kw * pue.get(r.hall, 1.0) for r in self.racks)
        return sum(CATALOG[n.model].node_max_kw * pue.get(n.hall, 1.0) for n in self.nodes)

"""Scorers: each gives every candidate node a number, higher better, in one vectorised pass.

The baselines follow the FGD artifact's definitions (hkust-adsl/kubernetes-scheduler-simulator), down
to their integer 0–100 scales: truncation creates ties, which is part of how those baselines behave.
The artifact's scheduler (a Kubernetes 1.20.5 fork) gives a tie to the node with the smallest name,
and its simulator prefixes every node name with a seeded random permutation index, so ties go to
the first node of one seeded random order; `neocloud.bench.openb` reproduces that through
`Policy.tie_order` (elsewhere the framework breaks ties at random). Capacities are normalised by the largest node
of the fleet (128 CPUs and 8 GPUs on openb, the artifact's constants).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.placement.framework import Candidates, Scores
from neocloud.placement.request import Request
from neocloud.placement.watch import CapacityWatch
from neocloud.placement.workload import Workload

IntArray = npt.NDArray[np.int64]


def _max_cpu(cap: Capacity) -> float:
    return float(max(int(cap.fleet.node_cpu.max()), 1))


def _max_gpu(cap: Capacity) -> float:
    return float(max(int(cap.fleet.node_gpus.max()), 1) * MILLI)


@dataclass(frozen=True, slots=True)
class FirstFit:
    """The lowest-numbered node that fits."""

    name: str = "first-fit"

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        return -candidates.astype(np.float64)


@dataclass(frozen=True, slots=True)
class NodeOrder:
    """Minus the node's position in the fleet as a share of the fleet, in (-1, 0]: earlier is better.
    A tie-breaker that fills nodes in one consistent order."""

    name: str = "node-order"

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        return -candidates.astype(np.float64) / max(len(cap.cpu_free), 1)


class SpreadOrder:
    """Minus each node's rank in one fixed order that interleaves the kinds of node, in (-1, 0]: the
    final tie-breaker of `default`. Like `NodeOrder` it fills nodes in one consistent order (load
    concentrates instead of spreading at random), but fleet files list nodes of one kind together, and
    filling in listing order would use up one kind of node first (all the small 2-GPU nodes, or all
    the whole 8-GPU ones). Here the i-th node of a kind of n nodes (kind: `Fleet.node_profile`) is
    ranked at (i + 0.5) / n, kinds interleaved in proportion to their size, equal positions ordered by
    a hash of the kind; within a kind the listing order is kept, so untouched nodes of one kind still
    rank lowest index first (`Policy.untouched_interchangeable` holds)."""

    name = "spread-order"

    def __init__(self) -> None:
        self._fleet: object | None = None
        self._rank: npt.NDArray[np.float64] = np.zeros(0)

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        if self._fleet is not cap.fleet:
            profile = cap.fleet.node_profile
            n = len(profile)
            counts = np.bincount(profile) if n else np.zeros(0, dtype=np.int64)
            by_kind = np.argsort(profile, kind="stable")
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if n else np.zeros(0, dtype=np.int64)
            within = np.empty(n, dtype=np.int64)
            within[by_kind] = np.arange(n) - np.repeat(starts, counts)
            position = (within + 0.5) / counts[profile] if n else np.zeros(0)
            salt = np.array(
                [
                    int.from_bytes(hashlib.blake2b(str(p).encode(), digest_size=7).digest())
                    for p in range(len(counts))
                ],
                dtype=np.int64,
            )
            order = np.lexsort((np.arange(n), salt[profile] if n else np.zeros(0, dtype=np.int64), position))
            rank = np.empty(n)
            rank[order] = np.arange(n)
            self._rank = -rank / max(n, 1)
            self._fleet = cap.fleet
        return np.asarray(self._rank[candidates], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class BestFit:
    """⌊100 · (1 − ½·CPU left/max CPU − ½·GPU left/max GPU)⌋, what is left measured after placing."""

    name: str = "best-fit"

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        cpu_left = (cap.cpu_free[candidates] - req.cpu_milli) / _max_cpu(cap)
        gpu_left = (cap.milli_free[candidates] - req.gpu_request_milli * (req.gpus > 0)) / _max_gpu(cap)
        return np.floor(100.0 * (1.0 - 0.5 * cpu_left - 0.5 * gpu_left))


@dataclass(frozen=True, slots=True)
class DotProduct:
    """Tetris-style alignment of the request with what the node has free, both normalised by the
    largest node: ⌊100 · (1 − (free·request)/2)⌋, so the node whose free vector the request matches
    least (the fullest) scores highest, as in the artifact."""

    name: str = "dot-product"

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        mc, mg = _max_cpu(cap), _max_gpu(cap)
        gpu_req = req.gpu_request_milli if req.gpus else 0
        dot = (cap.cpu_free[candidates] / mc) * (req.cpu_milli / mc) + (cap.milli_free[candidates] / mg) * (
            gpu_req / mg
        )
        return np.floor(100.0 * (1.0 - dot / 2.0))


@dataclass(frozen=True, slots=True)
class GpuPacking:
    """Prefer, in this order: sharing a partly used GPU (the fuller the better), using free GPUs of a
    partly used node, and last a wholly free node (the smaller the better). CPU-only requests: no
    preference."""

    name: str = "gpu-packing"

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        if req.gpus == 0:
            return np.zeros(len(candidates))
        whole = cap.whole_free[candidates]
        node_free = whole == cap.fleet.node_gpus[candidates]
        fresh = np.maximum(33 - whole, whole)
        if req.shares_gpu:
            rows = cap.gpu_free[candidates]
            tightest = np.where(rows >= req.gpu_milli, rows, MILLI + 1).min(axis=1)
            used = np.where(tightest == MILLI, 49, np.maximum(100 - (tightest * 100 // MILLI) // 10, 50))
        else:
            used = np.full(len(candidates), max(50 - req.gpus, 33))
        return np.where(node_free, fresh, used).astype(np.float64)


class GpuClustering:
    """Keep requests of one kind (sharing, 1-GPU, 2-GPU, …) together: a node that already holds only
    that kind scores highest, then a node holding it among others, then an empty node, then a node of
    other kinds; within each band, the fuller the node the better.

    The kinds on each node are learned from how its free GPUs changed between calls (`CapacityWatch`):
    a GPU taken whole counts towards a k-GPU kind, a GPU taken in part towards sharing. When several
    requests land on one node between two calls they are read as one.
    """

    name = "gpu-clustering"

    def __init__(self) -> None:
        self._watch = CapacityWatch()
        self._kinds: IntArray = np.zeros((0, 0), dtype=np.int64)

    def _sync(self, cap: Capacity) -> None:
        changed, old_gpu, _ = self._watch.changes(cap)
        if changed is None:
            self._kinds = np.zeros((len(cap.cpu_free), cap.gpu_free.shape[1] + 1), dtype=np.int64)
            used = cap.gpu_free < MILLI
            if used.any():
                changed = np.flatnonzero(used.any(axis=1))
                old_gpu = np.where(slots_of(cap)[changed], MILLI, 0).astype(np.int32)
            else:
                return
        for row, node in enumerate(changed.tolist()):
            before, after = old_gpu[row].astype(np.int64), cap.gpu_free[node].astype(np.int64)
            self._apply(node, before, after, sign=1)
            self._apply(node, after, before, sign=-1)

    def _apply(self, node: int, before: IntArray, after: IntArray, sign: int) -> None:
        taken = before > after
        whole = int(np.count_nonzero(taken & (before == MILLI) & (after == 0)))
        shared = int(np.count_nonzero(taken)) - whole
        row = self._kinds[node]
        if whole:
            row[whole] = max(row[whole] + sign, 0)
        if shared:
            row[0] = max(row[0] + sign * shared, 0)

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        self._sync(cap)
        if req.gpus == 0:
            return np.zeros(len(candidates))
        kind = 0 if req.shares_gpu else req.gpus
        mg = int(_max_gpu(cap))
        base = 25 * (mg - cap.milli_free[candidates]) // mg
        kinds = self._kinds[candidates]
        present = (kinds > 0).sum(axis=1)
        mine = kinds[:, kind] > 0 if kind < kinds.shape[1] else np.zeros(len(candidates), dtype=np.bool_)
        band = np.where(mine, np.where(present == 1, 75, 50), np.where(present == 0, 25, 0))
        return (base + band).astype(np.float64)


def slots_of(cap: Capacity) -> npt.NDArray[np.bool_]:
    """Which GPU slots each node has."""
    return np.arange(cap.gpu_free.shape[1])[None, :] < cap.fleet.node_gpus[:, None]


@dataclass(frozen=True, slots=True)
class PreserveWholeNodes:
    """-1 for a wholly free node (all GPUs and CPU free) when the request is smaller than the node and
    some partly used candidate fits it too; 0 otherwise. With `whole_gpu_only`, GPU-sharing and
    CPU-only requests get no preference (they are left to the fragmentation measure)."""

    name: str = "preserve-whole-nodes"
    whole_gpu_only: bool = False

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        none = np.zeros(len(candidates))
        if self.whole_gpu_only and (req.gpus == 0 or req.shares_gpu):
            return none
        gpus = cap.fleet.node_gpus[candidates]
        untouched = (cap.whole_free[candidates] == gpus) & (
            cap.cpu_free[candidates] == cap.fleet.node_cpu[candidates]
        )
        smaller = (
            req.gpu_request_milli < gpus * MILLI if req.gpus else np.ones(len(candidates), dtype=np.bool_)
        )
        breaking = untouched & smaller & (gpus > 0)
        if breaking.all():
            return none
        return np.asarray(-breaking.astype(np.float64), dtype=np.float64)


class SpareCpu:
    """For CPU-only requests: the CPU a node has to spare after placing, beyond what its free GPUs are
    expected to need (free GPUs x the workload's CPU per GPU), as a share of the largest node's CPU,
    in [-1, 1]. CPU-only work then goes where it strands no GPU. 0 for GPU requests."""

    name = "spare-cpu"

    def __init__(self, workload: Workload | None = None) -> None:
        shapes = (
            []
            if workload is None
            else [(s, w) for s, w in zip(workload.shapes, workload.weights, strict=True) if s.gpus]
        )
        gpus = sum(w * s.gpus * s.gpu_milli for s, w in shapes)
        self.cpu_per_gpu = sum(w * s.cpu_milli for s, w in shapes) / gpus * MILLI if gpus else 0.0

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        if req.gpus:
            return np.zeros(len(candidates))
        needed = self.cpu_per_gpu * cap.milli_free[candidates] / MILLI
        spare = (cap.cpu_free[candidates] - req.cpu_milli - needed) / _max_cpu(cap)
        return np.asarray(np.clip(spare, -1.0, 1.0), dtype=np.float64)


class StrandedCpuFit(SpareCpu):
    """For CPU-only requests: best fit into CPU that free GPUs will not need. A node's spare CPU is what
    it has left after placing beyond its free GPUs' expected need (as in `SpareCpu`). Nodes with spare
    CPU score in [0, 0.5], the tighter the fit the higher, so CPU-only work fills up the CPU already
    stranded and leaves large spare pieces whole; nodes without score in [-1, -0.5), the less CPU the
    GPUs lose the higher. 0 for GPU requests."""

    name = "stranded-cpu-fit"

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        spare = super().__call__(req, cap, candidates)
        if req.gpus:
            return spare
        return np.asarray(np.where(spare >= 0, 1.0 - spare, spare - 1.0) / 2.0, dtype=np.float64)


class StrandedGpuGrowth(SpareCpu):
    """How much GPU capacity placing the request strands for lack of CPU (milli-GPU; negative when it
    frees some): a node's stranded GPU is the free milli-GPU beyond what its free CPU can serve at the
    workload's CPU per GPU, max(0, free GPU - free CPU / (CPU per GPU)), measured after placing minus
    before. Not a score (lower is better): `default` adds it to FGD's fragmentation growth. All zeros
    when the workload asks no CPU of its GPUs (the built-in whole-GPU one)."""

    name = "stranded-gpu-growth"

    def __init__(
        self, workload: Workload | None = None, *, cpu: bool = True, memory_per_gpu_milli: float = 0.0
    ) -> None:
        super().__init__(workload)
        if not cpu:
            self.cpu_per_gpu = 0.0
        self.memory_per_gpu = memory_per_gpu_milli * MILLI  # MiB per GPU (0: memory not counted)

    @property
    def active(self) -> bool:
        return self.cpu_per_gpu > 0 or self.memory_per_gpu > 0

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        if not self.active:
            return np.zeros(len(candidates))
        # free CPU, memory and GPU are int64: differences are taken exactly in integers, then scaled
        # (one array operation fewer per resource than converting first; the same values)
        gpu = cap.milli_free[candidates]
        taken = req.gpu_request_milli if req.gpus else 0
        before: npt.NDArray[np.floating[Any]] | None = None
        after: npt.NDArray[np.floating[Any]] | None = None
        if self.cpu_per_gpu > 0:
            per_cpu = MILLI / self.cpu_per_gpu  # milli-GPU one milli-CPU serves
            cpu = cap.cpu_free[candidates]
            before, after = cpu * per_cpu, (cpu - req.cpu_milli) * per_cpu
        if self.memory_per_gpu > 0:
            per_mib = MILLI / self.memory_per_gpu  # milli-GPU one MiB serves
            mem = cap.mem_free[candidates]
            mem_before, mem_after = mem * per_mib, (mem - req.memory_mib) * per_mib
            if before is None or after is None:
                before, after = mem_before, mem_after
            else:
                np.minimum(before, mem_before, out=before)
                np.minimum(after, mem_after, out=after)
        assert before is not None and after is not None  # active: CPU or memory is counted
        before = np.maximum(gpu - before, 0.0)
        after = np.maximum(gpu - taken - after, 0.0)
        return np.asarray(after - before, dtype=np.float64)


class ModelScarcity:
    """GPU capacity that requests bound to some GPU models will miss because this request, which could
    go elsewhere, takes it (milli-GPU, lower is better; relative to the best candidate).

    Each model-bound GPU shape s of the workload will ask, by the time the fleet's GPUs have all been
    requested, its share of the GPU demand times the fleet's GPU capacity; spread over the GPUs of the
    models it allows, it claims d_s / G(models(s)) of each. A model's claim ρ_m sums that over the
    bound shapes that allow m: a plain comparison of the demand that can only use some models with
    their supply (ρ_m ≥ 1: the bound demand alone fills model m). A GPU request taking g milli-GPU on
    a node of model m takes g·min(ρ_m, 1) of what bound requests need; candidates are compared by that,
    minus the smallest over them, so a request bound to one model sees all zeros. A CPU-only request
    takes no GPU: what it takes from the bound requests, CPU beside their GPUs, is the stranded-GPU
    term's to judge."""

    name = "model-scarcity"

    def __init__(self, workload: Workload | None) -> None:
        self.workload = workload
        self._fleet: object = None
        self.claim: npt.NDArray[np.float64] = np.zeros(0)

    def _bind(self, cap: Capacity) -> None:
        fleet = cap.fleet
        self._fleet = fleet
        models = list(fleet.models)
        supply = np.zeros(len(models))
        np.add.at(supply, fleet.node_model, fleet.node_gpus.astype(np.float64) * MILLI)
        claim = np.zeros(len(models))
        if self.workload is not None:
            pairs = list(zip(self.workload.shapes, self.workload.weights, strict=True))
            demand = sum(w * s.gpus * s.gpu_milli for s, w in pairs)
            total = float(supply.sum())
            for s, w in pairs:
                if not s.gpus or s.models is None or demand <= 0:
                    continue
                allowed = [models.index(m) for m in s.models if m in models]
                room = float(supply[allowed].sum())
                if room > 0:
                    claim[allowed] += (w * s.gpus * s.gpu_milli / demand) * total / room
        self.claim = np.minimum(claim, 1.0)[fleet.node_model]

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        if cap.fleet is not self._fleet:
            self._bind(cap)
        if not req.gpus or len(candidates) == 0:
            return np.zeros(len(candidates))
        claim = self.claim[candidates]
        return np.asarray(req.gpu_request_milli * (claim - claim.min()), dtype=np.float64)

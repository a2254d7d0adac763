"""The scale benchmark: build a large preset, then place a seeded stream of mixed requests (and release
some) until the fleet is 90 % allocated, timing every decision.

Reported: fleet build time, peak RSS, placements per second (all, and single-node; deciding plus
committing to `Capacity`), p50/p99 decision latency (`Policy.place` alone) by request size in GPUs, and
the share of gangs placed in their smallest possible domain (the level they would land in on the empty
fleet), with the levels each gang size landed at, and a digest of every decision (two runs with equal
digests made the same decisions, so a faster version can be shown to decide exactly as before).
Timings are reported, never asserted."""

from __future__ import annotations

import gc
import hashlib
import importlib
import random
import resource
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from neocloud.fleet import presets
from neocloud.fleet.capacity import MILLI, Capacity, NodeShare
from neocloud.fleet.fleet import Fleet
from neocloud.fleet.topology import Level
from neocloud.kernel.errors import InvalidInput
from neocloud.placement.engine import place
from neocloud.placement.filters import standard_filters
from neocloud.placement.framework import Candidates, Placement, Policy, Scores
from neocloud.placement.pickers import tightest_gpus
from neocloud.placement.request import Request

TARGETS = {
    "build_seconds": 10.0,
    "peak_rss_mib": 2048.0,
    "single_node_placements_per_second": 2000.0,
    "p99_ms_4096_gpu_gang": 50.0,
    "gangs_in_smallest_domain_pct": 95.0,
}
GANG_GPUS = (64, 144, 256, 576, 1024, 4096)


@dataclass(frozen=True, slots=True)
class LowestIndex:
    """First fit: the lowest-numbered candidate node (nodes are numbered rack by rack)."""

    name: str = "first-fit"

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        return -candidates.astype(np.float64)


def first_fit() -> Policy:
    return Policy("first-fit", standard_filters(), ((LowestIndex(), 1.0),), tightest_gpus)


def bench_policy(name: str | None = None) -> Policy:
    """The policy named `name` from `policies.get_policy` (its "default" when None), or the built-in
    first-fit policy when `name` is "first-fit" or, for None, when no policy registry exists yet."""
    if name == "first-fit":
        return first_fit()
    try:
        module = importlib.import_module("neocloud.placement.policies")
    except ImportError:
        module = None
    get_policy = getattr(module, "get_policy", None)
    if get_policy is None:
        if name is None:
            return first_fit()
        raise InvalidInput(f"unknown policy {name!r}: no policy registry here, only 'first-fit'")
    policy: Policy = get_policy(name or "default")
    return policy


@dataclass(frozen=True, slots=True)
class Shape:
    """One kind of request in the stream, and how often it comes."""

    label: str
    request: Request
    weight: float


def request_mix(fleet: Fleet) -> list[Shape]:
    """Single GPUs, whole nodes, whole NVLink domains and 64- to 4,096-GPU gangs of the fleet's main model.

    Gangs stay within the smallest level whose domains hold them: up to an SU, then a fabric, then a hall.
    """
    by_model = fleet.gpus_by_model()
    model = max(by_model, key=lambda m: by_model[m])
    gpu = fleet.model(model)
    per_node = gpu.gpus_per_node
    models = frozenset({model}) if len(by_model) > 1 else None  # no model filter needed on one model
    shapes = [
        Shape("1", Request(gpus=1, models=models), 0.40),
        Shape(str(per_node), Request(gpus=per_node, models=models), 0.30),
    ]
    if gpu.nvlink_domain > per_node:
        shapes.append(
            Shape(
                str(gpu.nvlink_domain),
                Request(
                    gpus=per_node, nodes=gpu.nvlink_domain // per_node, models=models, within=Level.NVLINK
                ),
                0.10,
            )
        )
    for size, weight in zip(GANG_GPUS, (0.06, 0.04, 0.03, 0.03, 0.02, 0.02), strict=True):
        within = Level.SU if size <= 576 else Level.FABRIC if size <= 1024 else Level.HALL
        shapes.append(
            Shape(
                str(size),
                Request(gpus=per_node, nodes=size // per_node, models=models, within=within),
                weight,
            )
        )
    return shapes


@dataclass
class ScaleResult:
    preset: str
    policy: str
    seed: int
    nodes: int
    gpus: int
    build_seconds: float
    peak_rss_mib: float
    decisions: int
    placements: int
    releases: int
    unschedulable: int
    allocated_pct: float
    placements_per_second: float
    single_node_placements_per_second: float
    latency_ms: dict[str, dict[str, float]]
    gangs_placed: int
    gangs_in_smallest_domain_pct: float
    gang_levels: dict[str, dict[str, int]]
    digest: str = ""
    """SHA-256 (first 16 hex digits) of every decision in order: each placement's shares and domain."""
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _percentiles(samples: list[float]) -> dict[str, float]:
    a = np.asarray(samples) * 1000
    return {
        "p50": round(float(np.percentile(a, 50)), 4),
        "p99": round(float(np.percentile(a, 99)), 4),
        "n": len(samples),
    }


def run_scale(
    preset: str = "campus-1gw",
    params: Mapping[str, object] | None = None,
    *,
    seed: int = 0,
    policy: Policy | None = None,
    target: float = 0.90,
    release_chance: float = 0.2,
    max_decisions: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
    on_progress: Callable[[float], None] | None = None,
) -> ScaleResult:
    """Run the benchmark; `clock` times the build and every decision (wall-clock by default)."""
    policy = policy or bench_policy()
    start = clock()
    fleet = presets.build(preset, **(params or {}))
    cap = Capacity(fleet)
    _ = fleet.topology, fleet.node_model, fleet.index_of
    build_seconds = clock() - start
    empty = cap.copy()
    gc.collect()
    gc.freeze()  # the fleet's 100k objects live for the whole run: keep them out of collections

    shapes = request_mix(fleet)
    ideal: dict[str, Level] = {}
    for shape in list(shapes):
        if shape.request.is_gang:
            verdict = place(policy, shape.request, empty, random.Random(seed))
            if isinstance(verdict, Placement) and verdict.domain is not None:
                ideal[shape.label] = verdict.domain[0]
            else:
                shapes.remove(shape)  # too big for this fleet even when empty
    weights = [s.weight for s in shapes]

    arrivals = random.Random(f"{seed}:requests")
    choices = random.Random(f"{seed}:placement")
    departures = random.Random(f"{seed}:releases")
    live: list[tuple[NodeShare, ...]] = []
    latency: dict[str, list[float]] = {s.label: [] for s in shapes}
    total = fleet.gpu_count() * MILLI
    allocated = 0
    placements = releases = unschedulable = decisions = gangs = smallest = 0
    gang_levels: dict[str, dict[str, int]] = {}
    busy = single_busy = 0.0
    single = 0
    digest = hashlib.sha256()
    limit = max_decisions if max_decisions is not None else 20 * len(fleet.nodes) + 1000
    while allocated < target * total and decisions < limit:
        shape = arrivals.choices(shapes, weights)[0]
        t0 = clock()
        verdict = place(policy, shape.request, cap, choices)
        t1 = clock()
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
        elapsed = clock() - t0
        decisions += 1
        latency[shape.label].append(t1 - t0)
        busy += elapsed
        digest.update(_decision_bytes(verdict))
        if isinstance(verdict, Placement):
            placements += 1
            live.append(verdict.shares)
            allocated += sum(s.milli * len(s.gpu_slots) for s in verdict.shares)
            if shape.request.is_gang:
                gangs += 1
                level = verdict.domain[0] if verdict.domain is not None else Level.SITE
                smallest += level <= ideal[shape.label]
                landed = gang_levels.setdefault(shape.label, {})
                landed[level.label] = landed.get(level.label, 0) + 1
            else:
                single += 1
                single_busy += elapsed
        else:
            unschedulable += 1
        if live and departures.random() < release_chance:
            gone = live.pop(departures.randrange(len(live)))
            cap.give_back(gone)
            allocated -= sum(s.milli * len(s.gpu_slots) for s in gone)
            releases += 1
        if on_progress is not None and decisions % 256 == 0:
            on_progress(allocated / total)

    gc.unfreeze()
    return ScaleResult(
        preset=preset,
        policy=policy.name,
        seed=seed,
        nodes=len(fleet.nodes),
        gpus=fleet.gpu_count(),
        build_seconds=round(build_seconds, 4),
        peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        decisions=decisions,
        placements=placements,
        releases=releases,
        unschedulable=unschedulable,
        allocated_pct=round(100 * allocated / total, 2),
        placements_per_second=round(placements / busy, 1) if busy else 0.0,
        single_node_placements_per_second=round(single / single_busy, 1) if single_busy else 0.0,
        latency_ms={label: _percentiles(samples) for label, samples in latency.items() if samples},
        gangs_placed=gangs,
        gangs_in_smallest_domain_pct=round(100 * smallest / gangs, 2) if gangs else 100.0,
        gang_levels=gang_levels,
        digest=digest.hexdigest()[:16],
    )


def _decision_bytes(verdict: object) -> bytes:
    if not isinstance(verdict, Placement):
        return b"U"
    shares = [(s.node, tuple(s.gpu_slots), s.milli, s.cpu_milli, s.memory_mib) for s in verdict.shares]
    return repr(shares).encode() + repr(verdict.domain).encode()

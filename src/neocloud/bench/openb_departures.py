"""openb with time: pods arrive at their `creation_time` and leave at their `deletion_time`.

The published protocol has no departures. Here each pod of the list (with both times) arrives at its
own creation time and, if it was placed, leaves after its own lifetime (`deletion_time -
creation_time`); a pod that fits nowhere is rejected. At the trace's own pace the openb cluster is
nearly idle (peak demand ≈ 1 % of the GPUs), and the whole list asks for less GPU than the fleet has
(98 % on default), so no pace could make demand exceed capacity. The trace is therefore played
`CYCLES` times back to back (each copy shifted by the trace's span), and its arrival times are
compressed by one factor, chosen so that the time-averaged demand over the arrival window (what the
pods alive ask for, placed or not) is `load` × the GPU capacity; lifetimes are kept. Reported over the arrival window (first to last arrival):

- time-averaged allocated GPU, % of capacity;
- the unallocated share while demand exceeds capacity: over the times when the pods alive (placed or
  rejected, arrived and not yet past their deletion) ask for more GPU than the fleet has, the
  time-averaged GPU left unallocated, % of capacity (0 would mean the fleet is always full then);
- the share of the window spent over capacity, and the GPU request rejected, % of the request.

Pods arriving at the same instant are ordered by a seeded shuffle; departures at an instant come
before arrivals.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neocloud.bench.openb_ties import planned_policy, with_artifact_ties
from neocloud.fleet.capacity import MILLI, Capacity, NodeShare
from neocloud.fleet.fleet import Fleet
from neocloud.kernel.errors import InvalidInput
from neocloud.placement.engine import place
from neocloud.placement.framework import Placement
from neocloud.placement.workload import Workload
from neocloud.traces.openb import OpenbPod

DEFAULT_LOAD = 1.3
CYCLES = 3


@dataclass(frozen=True, slots=True)
class DepartureRun:
    seed: int
    time_avg_allocated_pct: float
    unallocated_pct_when_over: float | None
    over_capacity_pct_of_time: float
    rejected_pct_of_request: float
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {
            "time_avg_allocated_pct": round(self.time_avg_allocated_pct, 4),
            "unallocated_pct_when_over_capacity": (
                None if self.unallocated_pct_when_over is None else round(self.unallocated_pct_when_over, 4)
            ),
            "over_capacity_pct_of_time": round(self.over_capacity_pct_of_time, 4),
            "rejected_pct_of_request": round(self.rejected_pct_of_request, 4),
        }


def timed(pods: Sequence[OpenbPod]) -> list[OpenbPod]:
    """The pods that carry both times; InvalidInput when none do (multigpu20 has no times)."""
    out = [p for p in pods if p.creation_time is not None and p.deletion_time is not None]
    if not out:
        raise InvalidInput(
            "the pod list has no creation_time/deletion_time columns: no replay with departures"
        )
    return out


def _compression(gpu: np.ndarray, offset: np.ndarray, life: np.ndarray, target: float) -> float:
    """The factor c such that, with arrivals at c·offset, the time-averaged demand over the arrival
    window [0, c·max(offset)] is `target` (bisection on log c: the average falls as c grows)."""
    top = float(offset.max())
    lo, hi = 1e-12, 1e6  # floats
    for _ in range(200):
        mid = (lo * hi) ** 0.5
        window = mid * top
        arrive = mid * offset
        if float((gpu * (np.minimum(arrive + life, window) - arrive)).sum()) / window > target:
            lo = mid
        else:
            hi = mid
    return float((lo * hi) ** 0.5)


def replay(
    policy_name: str,
    fleet: Fleet,
    pods: Sequence[OpenbPod],
    workload: Workload,
    seed: int,
    load: float = DEFAULT_LOAD,
) -> DepartureRun:
    """One seeded replay with departures (see the module docstring)."""
    if load <= 0:
        raise InvalidInput("load must be positive", details={"load": load})
    one = timed(pods)
    capacity = fleet.gpu_count() * MILLI
    created = np.array([p.creation_time for p in one], dtype=np.float64)
    span = float(created.max() - created.min())
    if span <= 0:
        raise InvalidInput("the pods' times leave no span to replay")
    pods = list(one) * CYCLES
    offset = np.concatenate([created - created.min() + k * span for k in range(CYCLES)])
    life = np.tile(np.array([p.deletion_time for p in one], dtype=np.float64) - created, CYCLES)
    gpu = np.tile(np.array([p.gpu_milli for p in one], dtype=np.float64), CYCLES)
    scale = _compression(gpu, offset, life, load * capacity)
    arrive = offset * scale
    leave = arrive + life
    shuffled = list(range(len(pods)))
    random.Random(f"{seed}:ties").shuffle(shuffled)
    tie = np.asarray(shuffled)
    # Events: (time, 0 = departure | 1 = arrival, tie-break, pod).
    times = np.concatenate([leave, arrive])
    kinds = np.concatenate([np.zeros(len(pods)), np.ones(len(pods))])
    ties = np.concatenate([tie, tie])
    who = np.concatenate([np.arange(len(pods)), np.arange(len(pods))])
    order = np.lexsort((ties, kinds, times))
    policy = with_artifact_ties(planned_policy(policy_name, pods, workload), fleet, seed)
    cap = Capacity(fleet)
    rng = random.Random(f"{seed}:placement")
    held: dict[int, tuple[NodeShare, ...]] = {}
    end = float(arrive.max())
    allocated = demand = 0.0
    last = 0.0
    area_alloc = area_over = area_over_free = 0.0
    rejected = 0.0
    start = time.perf_counter()
    for e in order:
        if times[e] > end:
            break
        t = float(times[e])
        if t > last:
            dt = t - last
            area_alloc += allocated * dt
            if demand > capacity:
                area_over += dt
                area_over_free += (capacity - allocated) * dt
            last = t
        j = int(who[e])
        if kinds[e] == 0:
            demand -= gpu[j]
            shares = held.pop(j, None)
            if shares is not None:
                cap.give_back(shares)
                allocated -= gpu[j]
            continue
        demand += gpu[j]
        verdict = place(policy, pods[j].request, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
            held[j] = verdict.shares
            allocated += gpu[j]
        else:
            rejected += gpu[j]
    seconds = time.perf_counter() - start
    window = end if end > 0 else 1.0
    return DepartureRun(
        seed,
        float(100.0 * area_alloc / (capacity * window)),
        float(100.0 * area_over_free / (capacity * area_over)) if area_over > 0 else None,
        float(100.0 * area_over / window),
        float(100.0 * rejected / max(float(gpu.sum()), 1.0)),
        seconds,
    )

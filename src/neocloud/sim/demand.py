"""Demand: on-demand and spot job arrivals, from the Philly trace or a synthetic stream.

**Scaling rule (Philly).** Job sizes are rounded up to the fleet's node shape (whole nodes of
`gpus_per_node` GPUs). The trace's peak concurrent GPUs `P` is measured on those rounded sizes, each job
running from its submission for its duration (`PhillyTrace.peak_concurrent`: 3,604 GPUs for GB200's
4-GPU trays; 1,243 unrounded). A stream sized to `G = share × fleet GPUs` replays the trace at
`f = G / P` times its arrival rate: `ceil(f)` copies of the trace, each shifted by its own random
phase (modulo the trace's 108.9-day span, which also wraps the trace over longer horizons), the last copy
thinned to keep each job with probability `f − floor(f)`. Durations and sizes are the trace's. At the
trace's peak the stream asks exactly its share; on average far less (Philly's mean concurrency is ≈16 %
of its rounded peak), which the simulated utilisation then shows.

**Synthetic.** Poisson arrivals with exponential durations (`mean_hours`) and sizes (1 + geometric,
mean `mean_nodes`), at the rate that offers 80 % of the share's GPUs on average.

Each stream draws from its own seeded generator (`Random(f"{seed}:arrivals:on-demand")`), so changing
the fleet or the other stream never changes a stream's jobs.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from neocloud.traces.philly import PhillyTrace

SYNTHETIC_LOAD = 0.8


@dataclass(frozen=True, slots=True)
class Job:
    arrival: int  # seconds from the scenario's start
    nodes: int
    duration: int  # seconds, >= 1
    tenant: int  # index of the stream's tenant


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """How a stream was derived, for the report: `factor` f, the trace's peak P, the share's GPUs G."""

    product: str
    share_gpus: int
    peak_gpus: int
    factor: float
    copies: int


def philly_plan(trace: PhillyTrace, product: str, share_gpus: int, gpus_per_node: int) -> StreamPlan:
    peak = trace.peak_concurrent(gpus_per_node)
    factor = share_gpus / peak if peak else 0.0
    return StreamPlan(product, share_gpus, peak, factor, math.ceil(factor))


def philly_jobs(
    trace: PhillyTrace, plan: StreamPlan, gpus_per_node: int, horizon: int, tenants: int, seed: int
) -> Iterator[Job]:
    """The stream's jobs arriving in [0, horizon), in arrival order."""
    rng = random.Random(f"{seed}:arrivals:{plan.product}")
    span = max(1, math.ceil(trace.span_s) + 1)
    clusters = sorted({j.cluster for j in trace.jobs})
    tenant_of = {c: i % tenants for i, c in enumerate(clusters)}
    copies = []
    for c in range(plan.copies):
        keep = min(1.0, plan.factor - c)
        phase = rng.randrange(span)
        thin = random.Random(f"{seed}:arrivals:{plan.product}:{c}")
        copies.append(_copy(trace, span, phase, keep, thin, gpus_per_node, horizon, tenant_of))
    for job in heapq.merge(*copies, key=lambda j: j.arrival):
        yield job


def _copy(
    trace: PhillyTrace, span: int, phase: int, keep: float, rng: random.Random, gpn: int, horizon: int,
    tenant_of: dict[str, int],
) -> Iterator[Job]:
    """One phase-shifted copy of the trace, wrapped every `span` seconds, in arrival order."""
    jobs = trace.jobs
    shifted = sorted(((int(j.submit_s) + phase) % span, i) for i, j in enumerate(jobs))
    base = 0
    while base < horizon:
        for offset, i in shifted:
            t = base + offset
            if t >= horizon:
                return
            if keep < 1.0 and rng.random() >= keep:
                continue
            j = jobs[i]
            yield Job(t, -(-j.gpus // gpn), max(1, int(j.duration_s)), tenant_of[j.cluster])
        base += span


def synthetic_jobs(
    product: str, share_gpus: int, gpus_per_node: int, mean_nodes: float, mean_hours: float,
    horizon: int, tenants: int, seed: int,
) -> Iterator[Job]:
    rng = random.Random(f"{seed}:arrivals:{product}")
    if share_gpus <= 0:
        return
    mean_gpu_s = mean_nodes * gpus_per_node * mean_hours * 3600
    rate = SYNTHETIC_LOAD * share_gpus / mean_gpu_s  # arrivals per second
    p = 1.0 / mean_nodes  # 1 + geometric(p) has mean 1/p... shifted below to mean `mean_nodes`
    t = 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= horizon:
            return
        nodes = 1
        while nodes < 10_000 and rng.random() > p:
            nodes += 1
        duration = max(60, int(rng.expovariate(1.0 / (mean_hours * 3600))))
        yield Job(int(t), nodes, duration, rng.randrange(tenants))

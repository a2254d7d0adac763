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

import hashlib
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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


def philly_plan(
    trace: PhillyTrace, product: str, share_gpus: int, gpus_per_node: int, peak: int | None = None
) -> StreamPlan:
    """`peak`: the trace's `peak_concurrent(gpus_per_node)`, when the caller has it already."""
    peak = trace.peak_concurrent(gpus_per_node) if peak is None else peak
    factor = share_gpus / peak if peak else 0.0
    return StreamPlan(product, share_gpus, peak, factor, math.ceil(factor))


CHUNK = 65_536

Chunk = tuple[list[int], list[int], list[int], list[int]]  # arrivals, nodes, durations, tenants


def _np_rng(label: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256(label.encode()).digest()[:8], "little"))


TraceColumns = tuple[npt.NDArray[np.int64], ...]  # submit s, GPUs, duration s, cluster's rank by name


def trace_columns(trace: PhillyTrace) -> TraceColumns:
    """The trace's jobs as columns, read once for every stream drawn from it."""
    jobs = trace.jobs
    n = len(jobs)
    rank = {c: i for i, c in enumerate(sorted({j.cluster for j in jobs}))}
    return (
        np.fromiter((int(j.submit_s) for j in jobs), dtype=np.int64, count=n),
        np.fromiter((j.gpus for j in jobs), dtype=np.int64, count=n),
        np.fromiter((max(1, int(j.duration_s)) for j in jobs), dtype=np.int64, count=n),
        np.fromiter((rank[j.cluster] for j in jobs), dtype=np.int64, count=n),
    )


def philly_chunks(
    trace: PhillyTrace,
    plan: StreamPlan,
    gpus_per_node: int,
    horizon: int,
    tenants: int,
    seed: int,
    columns: TraceColumns | None = None,
) -> Iterator[Chunk]:
    """The stream's jobs arriving in [0, horizon), in arrival order, as column chunks (built with numpy:
    a campus year is ≈10M jobs); `columns`: the trace's, when the caller read them already."""
    rng = random.Random(f"{seed}:arrivals:{plan.product}")
    span = max(1, math.ceil(trace.span_s) + 1)
    jobs = trace.jobs
    submit, gpus, duration, cluster_rank = trace_columns(trace) if columns is None else columns
    nodes = -(-gpus // gpus_per_node)
    tenant = cluster_rank % tenants  # clusters in name order, dealt to the stream's tenants in turn
    copies = []
    for c in range(plan.copies):
        keep = min(1.0, plan.factor - c)
        copies.append((rng.randrange(span), keep, _np_rng(f"{seed}:arrivals:{plan.product}:{c}")))
    for base in range(0, horizon, span):
        times, index = [], []
        for phase, keep, thin in copies:
            mask = thin.random(len(jobs)) < keep if keep < 1.0 else slice(None)
            times.append(base + (submit[mask] + phase) % span)
            index.append(np.arange(len(jobs))[mask])
        t = np.concatenate(times)
        i = np.concatenate(index)
        order = np.argsort(t, kind="stable")
        t, i = t[order], i[order]
        t, i = t[t < horizon], i[t < horizon]
        for lo in range(0, len(t), CHUNK):
            sl = slice(lo, lo + CHUNK)
            ix = i[sl]
            yield t[sl].tolist(), nodes[ix].tolist(), duration[ix].tolist(), tenant[ix].tolist()


def philly_jobs(
    trace: PhillyTrace,
    plan: StreamPlan,
    gpus_per_node: int,
    horizon: int,
    tenants: int,
    seed: int,
    columns: TraceColumns | None = None,
) -> Iterator[Job]:
    """The same stream as `philly_chunks`, one Job at a time."""
    for chunk in philly_chunks(trace, plan, gpus_per_node, horizon, tenants, seed, columns):
        yield from (Job(*row) for row in zip(*chunk, strict=True))


def chunks_of(jobs: Iterator[Job]) -> Iterator[Chunk]:
    """Column chunks of a Job stream."""
    while True:
        block = list(itertools.islice(jobs, CHUNK))
        if not block:
            return
        yield (
            [j.arrival for j in block],
            [j.nodes for j in block],
            [j.duration for j in block],
            [j.tenant for j in block],
        )


def synthetic_jobs(
    product: str,
    share_gpus: int,
    gpus_per_node: int,
    mean_nodes: float,
    mean_hours: float,
    horizon: int,
    tenants: int,
    seed: int,
) -> Iterator[Job]:
    rng = random.Random(f"{seed}:arrivals:{product}")
    if share_gpus <= 0:
        return
    mean_gpu_s = mean_nodes * gpus_per_node * mean_hours * 3600
    rate = SYNTHETIC_LOAD * share_gpus / mean_gpu_s  # arrivals per second
    p = 1.0 / mean_nodes  # sizes 1, 2, ... with P(n) = p (1 - p)^(n-1): mean 1/p = mean_nodes
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

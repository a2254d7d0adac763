"""The limit: an upper bound on the GPU any placement could allocate to the pods arrived so far.

Raw capacity is a bound, and a useless one (at 100 % arrived it says nothing can stay unallocated).
This one is an integer programme over aggregated classes, solved with HiGHS: nodes are grouped into
classes of identical nodes (model, GPUs, CPU, memory: 15 on openb), pods into classes of identical
requests (GPUs, milli-GPU, CPU, memory, allowed models), and `y[p, c]` counts the pods of class p
placed on nodes of class c. Maximise the GPU placed, subject to, for every node class c of N nodes:

- a pod goes only where one node of the class could host it alone: the model is allowed, and the
  node has the GPUs, the CPU and the memory it asks for;
- pooled CPU, memory and milli-GPU: what the class's pods take fits in N nodes' worth;
- whole GPUs are exclusive: the pods' whole GPUs, plus one GPU for each sharing pod asking for more
  than half a GPU (two of those never share one), fit in the class's GPUs;
- per-node granularity: pods asking for more than half a node's GPUs, or CPU, or memory, take a node
  each (two never fit on one node), so there are at most N of each kind; the same holds for each
  resource separately;
- at most as many pods of a class as arrived.

Every constraint holds for any real placement, so the optimum is an upper bound; pooling within a
class is the relaxation. The bench solves the linear relaxation (fast, and a bound still);
`integral=True` solves the integer programme (if HiGHS stops at its time limit, its proven dual bound
is used). The
bound is reported as the least unallocated GPU % any placement could reach:
`100 - 100 * bound / capacity`.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neocloud.fleet.capacity import MILLI
from neocloud.fleet.fleet import Fleet
from neocloud.placement.request import Request

TIME_LIMIT_SECONDS = 20.0


@dataclass(frozen=True, slots=True)
class Bound:
    allocatable_milli: float
    capacity_milli: int
    optimal: bool

    @property
    def unallocated_pct(self) -> float:
        return 100.0 - 100.0 * self.allocatable_milli / self.capacity_milli


def _node_classes(fleet: Fleet) -> list[tuple[str, int, int, int, int]]:
    counts = Counter(
        (
            fleet.models[int(fleet.node_model[i])],
            int(fleet.node_gpus[i]),
            int(fleet.node_cpu[i]),
            int(fleet.node_memory[i]),
        )
        for i in range(len(fleet.nodes))
    )
    return [(m, g, c, mem, n) for (m, g, c, mem), n in sorted(counts.items())]


def _quiet_highs() -> Any:
    """A HiGHS instance, built with stdout silenced at the file-descriptor level: HiGHS prints its
    banner from C++ on construction, which would corrupt `bench openb --json`."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)
    return h


def placement_bound(
    fleet: Fleet, requests: Sequence[Request], time_limit: float = TIME_LIMIT_SECONDS, integral: bool = False
) -> Bound:
    """Upper bound on the milli-GPU a placement of `requests` (any subset) on `fleet` can allocate.

    `integral` solves the integer programme (tighter, slower); otherwise its LP relaxation."""
    capacity = fleet.gpu_count() * MILLI
    pods = Counter(
        (r.gpus, r.gpu_milli if r.gpus else 0, r.cpu_milli, r.memory_mib, r.models) for r in requests
    )
    import highspy

    pods_gpu = [(k, n) for k, n in pods.items() if k[0] > 0]
    if not pods_gpu:
        return Bound(0.0, capacity, True)
    nodes = _node_classes(fleet)
    h = _quiet_highs()
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", 1)
    inf = highspy.kHighsInf
    var: dict[tuple[int, int], int] = {}
    cols_cost: list[float] = []
    cols_upper: list[float] = []
    # CPU-only pods compete for CPU and memory too, but allocate no GPU: leaving them out can only
    # raise the bound, so the bound stays valid without them (and the programme stays small).
    for pi, ((gpus, milli, cpu, mem, models), n) in enumerate(pods_gpu):
        for ci, (model, g, c, m, _) in enumerate(nodes):
            if (models is not None and model not in models) or gpus > g or cpu > c or mem > m:
                continue
            var[(pi, ci)] = len(cols_cost)
            cols_cost.append(float(gpus * milli))
            cols_upper.append(float(n))
    ncol = len(cols_cost)
    if ncol == 0:
        return Bound(0.0, capacity, True)
    h.addVars(ncol, np.zeros(ncol), np.array(cols_upper))
    h.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), np.array(cols_cost))
    if integral:
        h.changeColsIntegrality(
            ncol, np.arange(ncol, dtype=np.int32), np.full(ncol, highspy.HighsVarType.kInteger)
        )
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)

    def row(entries: list[tuple[int, float]], upper: float) -> None:
        if entries:
            idx = np.array([i for i, _ in entries], dtype=np.int32)
            val = np.array([v for _, v in entries], dtype=np.float64)
            h.addRow(-inf, float(upper), len(idx), idx, val)

    for pi, (_, n) in enumerate(pods_gpu):
        row([(var[(pi, ci)], 1.0) for ci in range(len(nodes)) if (pi, ci) in var], float(n))
    for ci, (_, g, c, m, count) in enumerate(nodes):
        mine = [(pi, var[(pi, ci)]) for pi in range(len(pods_gpu)) if (pi, ci) in var]
        spec = [pods_gpu[pi][0] for pi, _ in mine]
        cols = [j for _, j in mine]
        row([(j, float(k[2])) for j, k in zip(cols, spec, strict=True)], float(count * c))
        row([(j, float(k[3])) for j, k in zip(cols, spec, strict=True)], float(count * m))
        row([(j, float(k[0] * k[1])) for j, k in zip(cols, spec, strict=True)], float(count * g * MILLI))
        whole = [
            (j, float(k[0] if k[1] == MILLI else 1))
            for j, k in zip(cols, spec, strict=True)
            if k[1] == MILLI or 2 * k[1] > MILLI
        ]
        row(whole, float(count * g))
        for big in (
            [j for j, k in zip(cols, spec, strict=True) if 2 * k[0] > g and k[1] == MILLI],
            [j for j, k in zip(cols, spec, strict=True) if 2 * k[2] > c],
            [j for j, k in zip(cols, spec, strict=True) if 2 * k[3] > m],
        ):
            row([(j, 1.0) for j in big], float(count))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    optimal = status == highspy.HighsModelStatus.kOptimal
    # A MIP's dual bound is valid whether or not the search finished (at optimality it is the optimum);
    # an LP stopped early is not used (the bound falls back to capacity).
    if integral and np.isfinite(info.mip_dual_bound):
        value = float(info.mip_dual_bound)
    elif optimal:
        value = float(info.objective_function_value)
    else:
        value = float(capacity)
    return Bound(min(value, float(capacity)), capacity, optimal)

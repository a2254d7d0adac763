"""The tight limit: a configuration LP (column generation) over node fillings, solved with HiGHS.

`openb_bound.placement_bound` pools each node class's CPU, memory and GPU, so 100.5 % of demand can
"fill" every GPU: on openb it says 0 % unallocated on nearly every workload. Here a node class's
capacity is spent in whole node fillings instead. A *configuration* q of a node class c is a multiset
of pods that one node of c can host at once:

- every pod's GPU model is allowed and the node has its GPUs;
- the pods' CPU and memory fit the node's;
- whole-GPU pods take whole GPUs; the sharing pods are packed into the remaining GPUs, each sharing
  pod on one GPU, the milli-GPU on each GPU at most 1000 (the packing inside the GPUs is exact: the
  pricing problem assigns each sharing pod to a GPU).

The configuration LP is: maximise Σ val(q)·λ[c, q] (val = milli-GPU the pods ask), with
Σ_q λ[c, q] ≤ N_c for each node class and Σ_{c,q} count_p(q)·λ[c, q] ≤ n_p for each pod class (at
most as many pods as arrived). Every placement of any subset of the pods is an integer point of it,
so its optimum bounds every placement. It has too many columns to write down, so it is solved by
column generation: the restricted master LP over the configurations found so far gives duals π ≥ 0
of the pod rows, and for each node class an integer programme (the pricing problem, exact node
feasibility as above) finds the configuration of largest reduced value Σ_p (v_p − π_p)·x_p.

Validity at every iteration, not only at convergence (Lagrangian duality): for any π ≥ 0,

    any placement's GPU ≤ Σ_p n_p·π_p + Σ_c N_c · max(0, P_c(π)),

where P_c(π) is the pricing optimum (HiGHS' proven dual bound of the pricing integer programme is
used, which is ≥ the optimum even if a time limit stops it). The bound reported is the smallest such
value over the iterations; it converges to the configuration LP's optimum. CPU-only pods are left
out: they allocate no GPU, and leaving pods out can only raise the bound.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neocloud.bench.openb_bound import Bound, _node_classes, _quiet_highs
from neocloud.fleet.capacity import MILLI
from neocloud.fleet.fleet import Fleet
from neocloud.placement.request import Request

PodClass = tuple[int, int, int, int, frozenset[str] | None]  # gpus, milli per GPU, cpu, memory, models
NodeClass = tuple[str, int, int, int, int]  # model, gpus, cpu, memory, count

TOLERANCE_SHARE = 1e-4  # stop when bound and master differ by under 0.01 % of the GPU capacity
MAX_ITERATIONS = 200
TIME_LIMIT_SECONDS = 60.0
PRICING_TIME_LIMIT = 10.0
PRICING_GAP = 1e-4  # the pricing's proven dual bound is used, so a gap only slows convergence


@dataclass(frozen=True, slots=True)
class ConfigurationBound(Bound):
    """The bound, with the restricted master's value (a lower bound on the configuration LP, so
    `allocatable_milli - master_milli` is how far from convergence it stopped) and its iterations."""

    master_milli: float = 0.0
    iterations: int = 0
    achieved_milli: float = 0.0

    @property
    def achieved_unallocated_pct(self) -> float:
        """Unallocated GPU % of a real placement built from the master's solution (an upper bound on
        the least any placement reaches: the optimum lies between this and `unallocated_pct`)."""
        return 100.0 - 100.0 * self.achieved_milli / self.capacity_milli


def _fits_alone(p: PodClass, c: NodeClass) -> bool:
    gpus, _, cpu, mem, models = p
    model, g, cc, m, _ = c
    return (models is None or model in models) and gpus <= g and cpu <= cc and mem <= m


def _price(
    node: NodeClass, pods: Sequence[PodClass], counts: Sequence[int], profit: Sequence[float]
) -> tuple[float, dict[int, int]]:
    """The node filling of largest Σ profit·count: (a proven upper bound on it, one best filling)."""
    import highspy

    _, g, cpu_cap, mem_cap, _ = node
    mine = [i for i, p in enumerate(pods) if profit[i] > 1e-9 and _fits_alone(p, node)]
    if not mine:
        return 0.0, {}
    h = _quiet_highs()
    h.setOptionValue("time_limit", PRICING_TIME_LIMIT)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", PRICING_GAP)
    inf = highspy.kHighsInf
    n = len(mine)
    upper = [
        float(min(counts[i], g // pods[i][0] if pods[i][1] == MILLI else g * (MILLI // pods[i][1])))
        for i in mine
    ]
    h.addVars(n, np.zeros(n), np.array(upper))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array([profit[i] for i in mine]))
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    idx = np.arange(n, dtype=np.int32)

    def row(coef: list[float], up: float) -> None:
        h.addRow(-inf, up, n, idx, np.array(coef, dtype=np.float64))

    row([float(pods[i][2]) for i in mine], float(cpu_cap))
    row([float(pods[i][3]) for i in mine], float(mem_cap))
    row([float(pods[i][0] * pods[i][1]) for i in mine], float(g * MILLI))
    # GPUs no two of whose pods can share: whole-GPU pods' GPUs and one per sharing pod over half a GPU.
    row([float(pods[i][0]) if pods[i][1] == MILLI or 2 * pods[i][1] > MILLI else 0.0 for i in mine], float(g))
    h.run()
    info = h.getInfo()
    filling: dict[int, int] = {}
    if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        sol = h.getSolution().col_value
        filling = {i: k for j, i in enumerate(mine) if (k := round(sol[j])) > 0}
    upper_bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else float("inf")
    value = sum(profit[i] * k for i, k in filling.items())
    return max(upper_bound, value), filling


def _most_alone(node: NodeClass, p: PodClass) -> int:
    """How many pods of class p one node could hold by each resource alone (an upper bound)."""
    _, g, cpu, mem, _ = node
    per_gpu = 1 if p[1] == MILLI else MILLI // p[1]
    limits = [g // p[0] * per_gpu if p[1] == MILLI else g * per_gpu]
    limits += [cpu // p[2]] if p[2] else []
    limits += [mem // p[3]] if p[3] else []
    return max(min(limits), 0) if _fits_alone(p, node) else 0


def packs(node: NodeClass, pods: Sequence[PodClass], filling: dict[int, int]) -> bool:
    """Whether one node of `node` really hosts `filling`: models, CPU, memory, whole GPUs, the sharing
    pods packed into the GPUs left by first-fit decreasing (a sufficient test)."""
    _, g, cpu_cap, mem_cap, _ = node
    if not all(_fits_alone(pods[i], node) for i in filling):
        return False
    if sum(pods[i][2] * k for i, k in filling.items()) > cpu_cap:
        return False
    if sum(pods[i][3] * k for i, k in filling.items()) > mem_cap:
        return False
    free = g - sum(pods[i][0] * k for i, k in filling.items() if pods[i][1] == MILLI)
    if free < 0:
        return False
    gpus: list[int] = []
    for f in sorted(
        (pods[i][1] for i, k in filling.items() if pods[i][1] < MILLI for _ in range(k)), reverse=True
    ):
        for s, load in enumerate(gpus):
            if load + f <= MILLI:
                gpus[s] += f
                break
        else:
            gpus.append(f)
    return len(gpus) <= free


def configuration_bound(
    fleet: Fleet,
    requests: Sequence[Request],
    time_limit: float = TIME_LIMIT_SECONDS,
    tolerance_share: float = TOLERANCE_SHARE,
) -> ConfigurationBound:
    """Upper bound on the milli-GPU any placement of any subset of `requests` on `fleet` allocates."""
    import highspy

    capacity = fleet.gpu_count() * MILLI
    counted = Counter(
        (r.gpus, r.gpu_milli, r.cpu_milli, r.memory_mib, r.models) for r in requests if r.gpus > 0
    )
    pods: list[PodClass] = list(counted)
    counts = [counted[p] for p in pods]
    value = [float(p[0] * p[1]) for p in pods]
    nodes: list[NodeClass] = [c for c in _node_classes(fleet) if any(_fits_alone(p, c) for p in pods)]
    if not pods or not nodes:
        return ConfigurationBound(0.0, capacity, True)
    master = _quiet_highs()
    master.setOptionValue("threads", 1)
    inf = highspy.kHighsInf
    master.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for n in counts:
        master.addRow(-inf, float(n), 0, np.zeros(0, dtype=np.int32), np.zeros(0))
    for c in nodes:
        master.addRow(-inf, float(c[4]), 0, np.zeros(0, dtype=np.int32), np.zeros(0))
    seen: set[tuple[int, tuple[tuple[int, int], ...]]] = set()
    columns: list[tuple[int, dict[int, int]]] = []
    tolerance_milli = tolerance_share * capacity

    def add_column(ci: int, filling: dict[int, int]) -> bool:
        key = (ci, tuple(sorted(filling.items())))
        if not filling or key in seen:
            return False
        seen.add(key)
        rows = sorted(filling)
        idx = np.array([*rows, len(pods) + ci], dtype=np.int32)
        val = np.array([float(filling[i]) for i in rows] + [1.0])
        master.addCol(sum(value[i] * k for i, k in filling.items()), 0.0, inf, len(idx), idx, val)
        columns.append((ci, dict(filling)))
        return True

    # Seed the master with homogeneous fillings: as many pods of one class as one node hosts.
    for ci, c in enumerate(nodes):
        for i, p in enumerate(pods):
            k = counts[i]
            while k > 0 and not packs(c, pods, {i: k}):
                k = min(k - 1, _most_alone(c, p))
            add_column(ci, {i: k} if k > 0 else {})
    best = float(capacity)
    master_value = 0.0
    started = time.monotonic()
    iterations = 0
    pi = np.zeros(len(pods))
    while iterations < MAX_ITERATIONS:
        iterations += 1
        profit = [value[i] - pi[i] for i in range(len(pods))]
        bound = float(np.dot(pi, counts))
        added = False
        for ci, c in enumerate(nodes):
            upper, filling = _price(c, pods, counts, profit)
            bound += c[4] * max(upper, 0.0)
            added |= add_column(ci, filling)
        best = min(best, bound)
        if iterations > 1 and (min(best, capacity) - master_value <= tolerance_milli or not added):
            break
        if time.monotonic() - started > time_limit:
            break
        master.run()
        master_value = float(master.getInfo().objective_function_value)
        duals = np.array(master.getSolution().row_dual[: len(pods)])
        # HiGHS reports a maximisation's duals with the sign of the minimisation it solves; either
        # way the magnitude is the price, and any π ≥ 0 gives a valid bound.
        pi = np.abs(duals)
    best = min(best, float(capacity))
    lam = master.getSolution().col_value if columns else []
    # Whole copies of the master's configurations that really pack: a real placement of a subset.
    achieved = sum(
        np.floor(lam[j] + 1e-9) * sum(value[i] * k for i, k in filling.items())
        for j, (ci, filling) in enumerate(columns)
        if lam[j] >= 1 - 1e-9 and packs(nodes[ci], pods, filling)
    )
    converged = best - master_value <= tolerance_milli
    return ConfigurationBound(best, capacity, converged, master_value, iterations, float(achieved))

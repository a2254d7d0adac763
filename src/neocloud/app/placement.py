"""Which placement engine the control plane uses: ONE switch point, `_policy(name)`.

Until `domain/placement/policies.get_policy` and `domain/placement/gang.py` land on main, a local
fallback serves: the standard filters with the tightest-GPU picker and no scorers, and for gangs a
first-fit over whole free nodes of one topology domain. At merge the lead points `_policy` at
`get_policy(name)`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from neocloud.domain.capacity import Capacity, NodeShare
from neocloud.domain.placement.filters import standard_filters
from neocloud.domain.placement.framework import Placement, Policy, Unschedulable, Verdict, explain
from neocloud.domain.placement.gpus import tightest_gpus
from neocloud.domain.placement.request import Request
from neocloud.domain.reservations import Placer


@dataclass(frozen=True)
class _FallbackPlacer:
    single: Policy

    def place(self, req: Request, cap: Capacity, rng: random.Random) -> Verdict:
        if not req.is_gang:
            return self.single.place(req, cap, rng)
        feasible, reasons = explain(req, cap, self.single.filters)
        if req.within is None:
            ranges = [(0, len(cap.cpu_free))]
        else:
            topo = cap.fleet.topology
            ranges = list(zip(topo.starts[req.within].tolist(), topo.ends[req.within].tolist(), strict=True))
        for lo, hi in ranges:
            chosen = np.flatnonzero(feasible[lo:hi])[: req.nodes] + lo
            if len(chosen) == req.nodes:
                shares = tuple(
                    NodeShare(
                        int(i),
                        tightest_gpus(req, cap, int(i), rng),
                        req.gpu_milli,
                        req.cpu_milli,
                        req.memory_mib,
                    )
                    for i in chosen
                )
                return Placement(shares, self.single.name)
        reasons = dict(reasons)
        if feasible.any():  # nodes that fit alone, but in no domain together (the gang module's name)
            reasons["topology"] = int(np.count_nonzero(feasible))
        where = "the fleet" if req.within is None else f"any one {req.within.label}"
        return Unschedulable(reasons, f"no {req.nodes} whole free nodes in {where}")


def _policy(name: str) -> Placer:
    """The placer for policy `name` (the fallback ignores the name until real policies land)."""
    return _FallbackPlacer(Policy(name, standard_filters(), (), tightest_gpus))

"""The placement framework: filters, scorers, policies, and the Placement / Unschedulable verdicts.

A filter is vectorised over the fleet: it returns a boolean mask (True = the node fits) and its name is
the reason given for the nodes it rejects. A scorer returns one float per candidate node, higher better.
A placement returns a `Placement` or an `Unschedulable` that counts, for every filter, the nodes it
was the first to reject — "why is my request pending" answered by data.

This module defines the interfaces and the single-node pipeline only; it never imports an algorithm.
Dispatch (single node or gang) sits above both, in `neocloud.placement.engine`, as in the Kubernetes
scheduler framework. `Placer` is what callers outside placement depend on.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from neocloud.fleet.capacity import Capacity, NodeShare
from neocloud.fleet.fleet import Fleet
from neocloud.fleet.topology import Level
from neocloud.placement import search
from neocloud.placement.request import Request

Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]
Candidates = npt.NDArray[np.int64]


class Filter(Protocol):
    """A filter judges each node for one member of the request: its verdict on a node depends on that
    node's state and on what each member asks (`gpus`, `gpu_milli`, `cpu_milli`, `memory_mib`,
    `models`), never on a gang's `nodes` or `within` (topology is the gang algorithm's), so gangs of
    one member demand share their feasible masks.

    A filter may also define `on(req, cap, nodes) -> Mask`, its verdicts for `nodes` only (which
    must depend on each node alone). When every filter of a policy has it, single-node requests test
    only the nodes the per-domain aggregates leave in play (`neocloud.placement.search`). A filter may
    define `vacuous(req) -> bool`, True when it passes every node for `req` whatever their state; the
    searches over given nodes then skip it."""

    @property
    def name(self) -> str: ...

    def __call__(self, req: Request, cap: Capacity) -> Mask: ...


class Scorer(Protocol):
    @property
    def name(self) -> str: ...

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores: ...


class GpuPicker(Protocol):
    """Which GPU slots of the chosen node a request takes."""

    def __call__(self, req: Request, cap: Capacity, node: int, rng: random.Random) -> tuple[int, ...]: ...


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a request goes: the share it takes on each node, and the topology domain it landed in."""

    shares: tuple[NodeShare, ...]
    policy: str
    domain: tuple[Level, int] | None = None

    @property
    def nodes(self) -> tuple[int, ...]:
        return tuple(s.node for s in self.shares)


@dataclass(frozen=True, slots=True)
class Unschedulable:
    """No node (or no domain, for a gang) can take the request. `reasons[name]` counts the nodes that
    filter `name` was first to reject; `message` says it in a sentence."""

    reasons: dict[str, int]
    message: str = "no node fits the request"

    def __bool__(self) -> bool:
        return False


Verdict = Placement | Unschedulable


class Placer(Protocol):
    """Places one request on a capacity snapshot: what code outside placement depends on
    (`neocloud.placement.engine.PolicyPlacer` is the production one)."""

    def place(self, req: Request, cap: Capacity, rng: random.Random) -> Verdict: ...


def explain(req: Request, cap: Capacity, filters: Sequence[Filter]) -> tuple[Mask, dict[str, int]]:
    """Apply filters in order; return the feasible mask and how many nodes each filter rejected first."""
    feasible = np.ones(len(cap.cpu_free), dtype=np.bool_)
    reasons: dict[str, int] = {}
    for f in filters:
        ok = f(req, cap)
        rejected = int(np.count_nonzero(feasible & ~ok))
        if rejected:
            reasons[f.name] = rejected
        feasible &= ok
    return feasible, reasons


@dataclass(frozen=True)
class Policy:
    """A named list of filters plus weighted scorers, and how GPUs are picked on the chosen node.

    Ties between equally scored nodes are broken by `rng`, as the published simulator does.
    """

    name: str
    filters: tuple[Filter, ...]
    scorers: tuple[tuple[Scorer, float], ...]
    pick_gpus: GpuPicker
    description: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    untouched_interchangeable: bool = False
    """Set when every scorer is a function of the node's free state, with the lowest node index as the
    final tie-break: untouched nodes of one profile then score alike and the first of them wins, so one
    representative per profile is scored instead of all of them (the same decision, found faster)."""
    tie_order: npt.NDArray[np.int64] | None = None
    """When set, ties go to the candidate with the lowest `tie_order[node]` instead of a random one (the
    FGD artifact's scheduler breaks ties by node name, and its node names carry a seeded random prefix:
    `neocloud.bench.openb` reproduces that with a seeded permutation)."""
    node_wise: bool = field(init=False, repr=False, compare=False)
    """Whether every filter can answer for given nodes (`on`): derived from `filters`, once."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "node_wise", all(hasattr(f, "on") for f in self.filters))

    def place_node(self, req: Request, cap: Capacity, rng: random.Random) -> Verdict:
        """Place a single-node request: filter, score the candidates, pick GPUs on the best node.
        Gangs are not this method's: `neocloud.placement.engine.place` dispatches them to the gang
        algorithm, which reuses this policy's filters, `choose` and GPU picker."""
        assert not req.is_gang, "a gang request goes through neocloud.placement.engine.place"
        if self.untouched_interchangeable:
            found = search.candidates(self.filters, req, cap, self.node_wise)
            if found is not None and len(found):
                return self._finish(req, cap, found, rng)
        feasible = np.ones(len(cap.cpu_free), dtype=np.bool_)
        for f in self.filters:
            feasible &= f(req, cap)
        if not feasible.any():
            _, reasons = explain(req, cap, self.filters)  # counted only when there is something to explain
            return Unschedulable(reasons, _sentence(reasons))
        if self.untouched_interchangeable:
            candidates = representatives(cap, feasible)
        else:
            candidates = np.flatnonzero(feasible)
        return self._finish(req, cap, candidates, rng)

    def _finish(self, req: Request, cap: Capacity, candidates: Candidates, rng: random.Random) -> Placement:
        node = self.choose(req, cap, candidates, rng)
        slots = self.pick_gpus(req, cap, node, rng) if req.gpus else ()
        share = NodeShare(node, slots, req.gpu_milli if req.gpus else 0, req.cpu_milli, req.memory_mib)
        return Placement((share,), self.name)

    def choose(self, req: Request, cap: Capacity, candidates: Candidates, rng: random.Random) -> int:
        """The best-scoring candidate; a uniformly random one among ties."""
        if len(candidates) == 1 or not self.scorers:
            return int(candidates[rng.randrange(len(candidates))])
        total = np.zeros(len(candidates), dtype=np.float64)
        for scorer, weight in self.scorers:
            total += weight * scorer(req, cap, candidates)
        best = np.flatnonzero(total >= total.max() - 1e-9)
        if self.tie_order is not None:
            return int(candidates[best[np.argmin(self.tie_order[candidates[best]])]])
        return int(candidates[best[rng.randrange(len(best))]])


def representatives(cap: Capacity, feasible: Mask) -> Candidates:
    """The feasible nodes that are partly used, plus the first feasible untouched node of each profile."""
    fresh = feasible & cap.untouched()
    if not fresh.any():
        return np.flatnonzero(feasible)
    profile = cap.fleet.node_profile
    n_profiles = cap.fleet.profile_count
    if n_profiles <= 32 and len(profile) >= search.MIN_NODES:  # below, one pass over the profile runs wins
        partly = np.flatnonzero(feasible & ~fresh)
        firsts = []
        for p in range(n_profiles):
            of_p = fresh & (profile == p)
            if of_p.any():
                firsts.append(int(np.argmax(of_p)))
        first = np.asarray(firsts, dtype=np.int64)
        return np.sort(np.concatenate([partly, first]))
    order, starts, ends = _profile_runs(cap.fleet)
    pos = np.flatnonzero(fresh[order])  # positions, in the nodes sorted by profile, of the fresh ones
    k = np.searchsorted(pos, starts)  # each profile's first fresh position, if it lies in its run
    some = k < len(pos)
    first = pos[k[some]]
    keep = feasible & ~fresh
    keep[order[first[first < ends[some]]]] = True
    return np.flatnonzero(keep)


_RUNS: tuple[object, Candidates, Candidates, Candidates] | None = None


def _profile_runs(fleet: Fleet) -> tuple[Candidates, Candidates, Candidates]:
    """The nodes sorted by profile, listing order kept within one (so a profile's first node in that
    order is its lowest-numbered), and where each profile's run starts and ends; kept for the last
    fleet asked (one tuple, replaced whole: safe to read from several threads)."""
    global _RUNS
    runs = _RUNS
    if runs is None or runs[0] is not fleet:
        profile = fleet.node_profile
        counts = np.bincount(profile, minlength=fleet.profile_count)
        ends = np.cumsum(counts)
        runs = (fleet, np.argsort(profile, kind="stable"), ends - counts, ends)
        _RUNS = runs
    return runs[1], runs[2], runs[3]


def _sentence(reasons: dict[str, int]) -> str:
    if not reasons:
        return "the fleet has no nodes"
    parts = ", ".join(
        f"{count} nodes rejected by {name}" for name, count in sorted(reasons.items(), key=lambda kv: -kv[1])
    )
    return f"no node fits: {parts}"

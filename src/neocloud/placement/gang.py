"""Topology-aware gang placement: `nodes` nodes of `gpus` GPUs each, inside one topology domain.

The rules (foundation issue, section 3):

- A gang lands in the SMALLEST domain that holds it: levels are searched from NVLINK upward, never above
  `req.within` (SITE when unset).
- Among the domains of that level that hold it, the best fit wins: the one with the fewest usable nodes
  (least capacity left stranded next to the gang); then the one with fewest untouched nodes, so a small
  gang does not break a whole free rack when a partly used one fits; remaining ties go to `rng`.
- A gang with at least as many GPUs as a multi-node NVLink domain (72 on GB200 NVL72) takes such domains
  whole: it may only use NVLink domains whose nodes are all feasible and untouched, and fills them one
  after the other (144 GPUs = 2 whole racks in one SU; 4,096 GPUs = 57 whole racks).
- Inside the chosen domain, NVLink domains already in use are filled first (fullest first), untouched
  ones last; the nodes of the last, partly taken NVLink domain are ranked by the policy's scorers.

Everything is vectorised: the feasible mask is reduced per NVLink domain once (`np.add.reduceat` over
`Topology.starts`), the untouched nodes and GPUs per domain come from the capacity's incrementally
kept aggregates (`Capacity.domains`), and each higher level reduces the per-NVLink-domain counts, so a
decision on a 100k-node fleet touches Python objects only for the nodes it takes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import numpy.typing as npt

from neocloud.fleet.capacity import MILLI, Capacity, NodeShare
from neocloud.fleet.domains import DomainFree
from neocloud.fleet.shares import uniform_shares
from neocloud.fleet.topology import Level, Topology
from neocloud.placement import search
from neocloud.placement.framework import (
    Candidates,
    Mask,
    Placement,
    Policy,
    Unschedulable,
    Verdict,
    explain,
)
from neocloud.placement.pickers import tightest_gpus
from neocloud.placement.request import Request

IntArray = npt.NDArray[np.int64]
SUBSET_SHARE = 64
"""Filters run on the nodes with enough free GPUs alone when those are under 1/SUBSET_SHARE of the fleet."""


@dataclass(frozen=True, slots=True)
class _NvlinkView:
    """Per-NVLink-domain figures for one request: usable nodes, untouched nodes, domain sizes. The
    usable nodes of NVLink domain d are its feasible nodes when `counts[d] > 0`, none otherwise."""

    feasible: Mask  # per node: the policy's filters
    counts: IntArray  # usable nodes per NVLink domain
    untouched: IntArray  # untouched (all GPUs free) nodes per NVLink domain
    sizes: IntArray  # nodes per NVLink domain

    def usable(self, topo: Topology, nv: int) -> IntArray:
        """The usable nodes of NVLink domain `nv`."""
        if not self.counts[nv]:
            return np.zeros(0, dtype=np.int64)
        lo = int(topo.starts[Level.NVLINK][nv])
        return lo + np.flatnonzero(self.feasible[lo : lo + int(self.sizes[nv])])


def place_gang(policy: Policy, req: Request, cap: Capacity, rng: random.Random) -> Verdict:
    """Place a gang (see the module docstring); `Placement.domain` is the (level, index) it landed in."""
    topo = cap.fleet.topology
    feasible, counts = _feasible(policy, req, cap, topo)
    view = _nvlink_view(req, cap, topo, feasible, counts)
    top = Level.SITE if req.within is None else req.within
    need = req.nodes
    domains = cap.domains
    bounded = bool(req.gpus) and not req.shares_gpu
    for level in Level:
        if level > top:
            break
        if domains.same_as_below(level):
            continue  # the same domains as a level below, which held no such gang
        if bounded and _most_with(domains, level, req.gpus) < need:
            continue  # no domain of this level has enough nodes with the free GPUs asked
        counts, untouched = _per_domain(topo, level, view)
        fits = np.flatnonzero(counts >= need)
        if not fits.size:
            continue
        domain = _best_fit(counts, untouched, fits, len(cap.cpu_free), rng)
        nodes = _fill(policy, req, cap, topo, view, level, domain, rng)
        slots = _slots(policy, req, cap, nodes, rng)
        milli = req.gpu_milli if req.gpus else 0
        shares: tuple[NodeShare, ...]
        if isinstance(slots, tuple):
            shares = uniform_shares(nodes, slots, milli, req.cpu_milli, req.memory_mib)
        else:
            shares = tuple(
                map(
                    NodeShare,
                    nodes.tolist(),
                    slots,
                    repeat(milli),
                    repeat(req.cpu_milli),
                    repeat(req.memory_mib),
                )
            )
        return Placement(shares, policy.name, domain=(level, domain))
    _, reasons = explain(req, cap, policy.filters)  # counted only when there is something to explain
    return _unschedulable(req, topo, view, top, reasons)


def _feasible(policy: Policy, req: Request, cap: Capacity, topo: Topology) -> tuple[Mask, IntArray]:
    """The policy's feasible mask and its count per NVLink domain.

    A gang member needs `req.gpus` wholly free GPUs (or, sharing, one GPU with `gpu_milli` free), so
    only nodes that have them can be feasible. When every filter can answer for given nodes (`on`):
    if the aggregates say those nodes are few (under 1/SUBSET_SHARE of the fleet), the filters run on
    them alone, found domain by domain; otherwise the mask kept for this request on this capacity is
    brought up to date for the nodes changed since (`search.feasible_kept`). Else the filters run on
    the whole fleet."""
    n = len(cap.cpu_free)
    domains = cap.domains
    starts = topo.starts[Level.NVLINK]
    if policy.node_wise:
        if req.gpus and not req.shares_gpu:
            g = min(req.gpus, domains.width)
            if SUBSET_SHARE * int(domains.nodes_ge[Level.SITE][:, g].sum()) < n:
                level = domains.scan_level
                doms = np.flatnonzero(domains.nodes_ge[level][:, g] > 0)
                nodes = search.nodes_of(topo, level, doms)
                nodes = nodes[cap.whole_free[nodes] >= req.gpus]
                nodes = nodes[search.passes(policy.filters, req, cap, nodes)]
                feasible = np.zeros(n, dtype=np.bool_)
                feasible[nodes] = True
                counts = np.bincount(topo.domain_of[Level.NVLINK][nodes], minlength=len(starts)).astype(
                    np.int64
                )
                return feasible, counts
        kept = search.feasible_kept(policy.filters, req, cap, Level.NVLINK) if search.KEEP_MASKS else None
        if kept is not None:
            return kept
    feasible = np.ones(n, dtype=np.bool_)
    for f in policy.filters:
        feasible &= f(req, cap)
    return feasible, np.add.reduceat(feasible.view(np.uint8), starts, dtype=np.int64)


def _nvlink_view(
    req: Request, cap: Capacity, topo: Topology, feasible: Mask, counts: IntArray
) -> _NvlinkView:
    """From the feasible nodes per NVLink domain and the capacity's per-domain aggregates (kept up to
    date incrementally), the usable nodes per NVLink domain."""
    domains = cap.domains
    sizes = domains.sizes(Level.NVLINK)
    untouched = domains.pristine[Level.NVLINK]
    whole = _taken_whole(domains, req.total_gpus)
    if whole is not None:
        # Taken whole or not at all: every node feasible and with all its GPUs free.
        if whole is _ALL:  # usable only when both are the domain's size (neither exceeds it)
            counts = counts * (np.minimum(counts, untouched) == sizes)
        else:
            counts = np.where(whole & ((counts < sizes) | (untouched < sizes)), 0, counts)
    return _NvlinkView(feasible, counts, untouched, sizes)


_ALL = np.ones(0, dtype=np.bool_)
"""`_taken_whole`'s answer when every NVLink domain is taken whole."""


def _taken_whole(domains: DomainFree, total_gpus: int) -> Mask | None:
    """The multi-node NVLink domains a gang of `total_gpus` GPUs takes whole (at least as many GPUs as
    the domain has): None for none, `_ALL` for all. Static per topology, so kept in `domains.static`."""
    key = ("gang-takes-whole", total_gpus)
    got = domains.static.get(key, key)
    if got is key:
        sizes = domains.sizes(Level.NVLINK)
        whole = (sizes > 1) & (domains.gpus[Level.NVLINK] <= total_gpus)
        got = None if not whole.any() else _ALL if whole.all() else whole
        domains.static[key] = got
    return got  # type: ignore[return-value]


def _most_with(domains: DomainFree, level: Level, gpus: int) -> int:
    """The most nodes with `gpus` wholly free GPUs any domain of `level` has: an upper bound on the
    usable nodes of a domain (from the aggregates, without looking at nodes)."""
    if gpus > domains.width:
        return 0
    return int(domains.nodes_ge[level][:, gpus].max(initial=0))


def _per_domain(topo: Topology, level: Level, view: _NvlinkView) -> tuple[IntArray, IntArray]:
    """Usable and untouched node counts per domain of `level`, reduced from the NVLink-level counts."""
    if level == Level.NVLINK:
        return view.counts, view.untouched
    first_nvlink = topo.domain_of[Level.NVLINK][topo.starts[level]]
    return np.add.reduceat(view.counts, first_nvlink), np.add.reduceat(view.untouched, first_nvlink)


def _best_fit(counts: IntArray, untouched: IntArray, fits: IntArray, n_nodes: int, rng: random.Random) -> int:
    """Among the domains `fits` (ascending), one with the fewest usable, then fewest untouched nodes."""
    if len(fits) == 1:
        return int(fits[rng.randrange(1)])  # the same draw as for one tie
    key = counts[fits] * (n_nodes + 1) + untouched[fits]
    best = fits[key == key.min()]
    return int(best[rng.randrange(len(best))])


def _fill(
    policy: Policy,
    req: Request,
    cap: Capacity,
    topo: Topology,
    view: _NvlinkView,
    level: Level,
    domain: int,
    rng: random.Random,
) -> IntArray:
    """The nodes the gang takes inside `domain`: used NVLink domains first (fullest first), then untouched
    ones; whole NVLink domains are taken in full, the last one's nodes are ranked by the policy."""
    start, end = int(topo.starts[level][domain]), int(topo.ends[level][domain])
    nv_of = topo.domain_of[Level.NVLINK]
    first, last = int(nv_of[start]), int(nv_of[end - 1]) + 1
    counts = view.counts[first:last]
    pristine = view.untouched[first:last] == view.sizes[first:last]
    order = np.lexsort((np.arange(len(counts)), -counts, pristine))
    order = order[counts[order] > 0]
    taken = np.cumsum(counts[order])
    k = int(np.searchsorted(taken, req.nodes))  # the NVLink domain in which the gang completes
    whole = search.nodes_of(topo, Level.NVLINK, order[:k] + first)  # in fill order
    nodes = whole[view.feasible[whole]]
    candidates = view.usable(topo, int(order[k]) + first)
    rest = _choose_many(policy, req, cap, candidates, req.nodes - len(nodes), rng)
    return np.concatenate((nodes, rest)) if len(nodes) else rest


def _choose_many(
    policy: Policy, req: Request, cap: Capacity, candidates: Candidates, count: int, rng: random.Random
) -> IntArray:
    """`count` of `candidates` as `policy.choose` would pick them one after the other: nothing is taken
    between picks, so the scores do not change and one scoring pass ranks them all (best first, ties in
    random order)."""
    if count == len(candidates):
        return np.asarray(candidates, dtype=np.int64)
    if count == 1:
        return np.array([policy.choose(req, cap, candidates, rng)], dtype=np.int64)
    total = np.zeros(len(candidates), dtype=np.float64)
    for scorer, weight in policy.scorers:
        total += weight * scorer(req, cap, candidates)
    ties = np.array([rng.random() for _ in range(len(candidates))])
    ranked = np.lexsort((ties, -np.round(total, 9)))
    return np.asarray(candidates[ranked[:count]], dtype=np.int64)


def _slots(
    policy: Policy, req: Request, cap: Capacity, nodes: IntArray, rng: random.Random
) -> tuple[int, ...] | list[tuple[int, ...]]:
    """The GPU slots taken on each node: the policy's picker, or for `tightest_gpus` with whole GPUs
    the same answer (the lowest-numbered wholly free slots) computed for all nodes at once. One tuple
    when every node takes the same slots."""
    if not req.gpus:
        return ()
    if policy.pick_gpus is tightest_gpus and not req.shares_gpu:
        free = cap.gpu_free[nodes] == MILLI
        if free[:, : req.gpus].all():
            return tuple(range(req.gpus))
        lowest = np.argsort(~free, axis=1, kind="stable")[:, : req.gpus]
        return [tuple(row) for row in lowest.tolist()]
    return [policy.pick_gpus(req, cap, n, rng) for n in nodes.tolist()]


def _unschedulable(
    req: Request, topo: Topology, view: _NvlinkView, top: Level, reasons: dict[str, int]
) -> Unschedulable:
    counts, _ = _per_domain(topo, top, view)
    largest = int(counts.max()) if counts.size else 0
    reasons = dict(reasons)
    if int(view.counts.sum()):
        reasons["topology"] = int(view.counts.sum())  # nodes that fit alone, but in no domain together
    filters = ", ".join(
        f"{n} nodes rejected by {name}"
        for name, n in sorted(reasons.items(), key=lambda kv: -kv[1])
        if name != "topology"
    )
    message = f"topology: no {top.label} holds {req.nodes} nodes (the largest has {largest} usable)"
    return Unschedulable(reasons, f"{message}; {filters}" if filters else message)

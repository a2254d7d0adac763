"""Finding a single-node request's candidate nodes from the per-domain aggregates, without testing
every node of the fleet.

When a policy's scorers make untouched nodes of one profile interchangeable (`Policy.
untouched_interchangeable`), the candidates are the feasible partly used nodes plus, per profile, the
first feasible untouched node (`framework.representatives`). Both can be found from
`Capacity.domains` instead of a pass of every filter over every node:

- partly used nodes that still have GPU capacity are counted per domain (`DomainFree.partly`), so only
  the domains that have some are opened, and the filters run on their nodes alone;
- untouched nodes are counted per domain and per profile, so the domains are opened in node order only
  until every profile that still has an untouched node of sufficient size has its first feasible one.

The result is exactly what the full pass gives (the same candidates, in the same order, hence the same
decision), on the filters' contract that a node's verdict depends on that node alone (`on`). A node
without the free GPUs a GPU request asks for is never a candidate (no picker could serve it), which is
what lets the domains without any be skipped. When a filter cannot answer for given nodes, the request
uses no GPU, or the untouched search would open more than a share of the fleet (every node of a
profile rejected by a filter), `candidates` returns None and the caller does the full pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from neocloud.fleet.capacity import Capacity
from neocloud.fleet.topology import Level, Topology
from neocloud.placement.request import Request

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
A = TypeVar("A", IntArray, BoolArray)

MIN_NODES = 4096
"""Fleets smaller than this take the full pass: it is as fast there, and simpler."""
_SCAN_SHARE = 8
"""The untouched search gives up after opening 1/8 of the fleet's nodes (and at least 1,024)."""


def candidates(
    filters: Sequence[Any], req: Request, cap: Capacity, node_wise: bool | None = None
) -> IntArray | None:
    """The representatives of the feasible nodes (see the module docstring), or None when only the
    full pass can tell. `node_wise`: whether every filter has `on` (computed when None)."""
    n = len(cap.cpu_free)
    if n < MIN_NODES or req.gpus == 0:
        return None
    if node_wise is None:
        node_wise = all(hasattr(f, "on") for f in filters)
    if not node_wise:
        return None
    active = _active(filters, req)
    domains = cap.domains
    topo = cap.fleet.topology
    level = domains.scan_level
    untouched = cap.untouched()

    partly: IntArray | None = None
    if not _no_partly_fits(req, cap):
        opened = nodes_of(topo, level, np.flatnonzero(domains.partly[level]))  # counts: > 0 is != 0
        opened = opened[~untouched[opened] & _has_gpus(req, cap, opened)]
        partly = opened[_passes(active, req, cap, opened)]

    firsts = _first_untouched(active, req, cap, topo, level, untouched, budget=max(n // _SCAN_SHARE, 1024))
    if firsts is None:
        return None
    if partly is None or not partly.size:
        return firsts  # sorted
    if not firsts.size:
        return partly  # in node order: domains are opened in order
    return np.sort(np.concatenate([partly, firsts]))


def _first_untouched(
    active: Sequence[Any],
    req: Request,
    cap: Capacity,
    topo: Topology,
    level: Level,
    untouched: BoolArray,
    budget: int,
) -> IntArray | None:
    """The first untouched node passing the `active` filters of every profile that has one; None past
    `budget` nodes."""
    profile = cap.fleet.node_profile
    left = cap.untouched_per_profile()
    if len(left) <= _FEW_PROFILES:
        g = req.gpus
        wanted = {
            p
            for p, (c, k) in enumerate(zip(left.tolist(), cap.profile_gpus().tolist(), strict=True))
            if c and k >= g
        }
    else:
        wanted = set(np.flatnonzero((left > 0) & (cap.profile_gpus() >= req.gpus)).tolist())
    if not wanted:
        return np.zeros(0, dtype=np.int64)
    found: dict[int, int] = {}
    # A wanted profile has untouched nodes, so some domain counts one.
    counts = cap.domains.untouched[level]
    n = len(untouched)
    lo = int(topo.starts[level][int(np.argmax(counts > 0))])  # the first domain with an untouched node
    span = 4 * max(n // max(topo.count(level), 1), 1)
    opened = 0
    single = len(left) == 1
    while wanted and lo < n:
        hi = min(n, lo + span)
        chunk = lo + np.flatnonzero(untouched[lo:hi])
        lo, span = hi, 2 * span
        if len(wanted) < len(left):
            chunk = chunk[np.isin(profile[chunk], list(wanted))]
        opened += len(chunk)
        ok = chunk[_passes(active, req, cap, chunk)]
        if ok.size:
            if single:
                return ok[:1].copy()
            kinds, at = np.unique(profile[ok], return_index=True)
            for p, i in zip(kinds.tolist(), at.tolist(), strict=True):
                found[p] = int(ok[i])
                wanted.discard(p)
        if wanted and opened > budget:
            return None
    return np.asarray(sorted(found.values()), dtype=np.int64)


_FEW_PROFILES = 32
"""Up to this many node profiles, per-profile counts are read as Python numbers."""


def _no_partly_fits(req: Request, cap: Capacity) -> bool:
    """True when no node other than untouched ones has the `req.gpus` whole free GPUs asked: every node
    with that many is an untouched node (untouched nodes with at least that many GPUs are counted per
    profile), so the partly used nodes need not be opened. False when it cannot tell."""
    if req.shares_gpu:
        return False
    g = req.gpus
    domains = cap.domains
    if g > domains.width:
        return True
    site = domains.nodes_ge[Level.SITE]
    with_g = int(site[0, g]) if len(site) == 1 else int(site[:, g].sum())
    left = cap.untouched_per_profile()
    fresh: int
    if len(left) <= _FEW_PROFILES:
        counts: list[int] = left.tolist()
        sizes: list[int] = cap.profile_gpus().tolist()
        fresh = sum(c for c, k in zip(counts, sizes, strict=True) if k >= g)
    else:
        fresh = int(left[cap.profile_gpus() >= g].sum())
    return with_g == fresh


def _has_gpus(req: Request, cap: Capacity, nodes: IntArray) -> BoolArray:
    """Nodes with the free GPUs the request asks for."""
    if req.shares_gpu:
        return np.asarray((cap.gpu_free[nodes] >= req.gpu_milli).any(axis=1), dtype=np.bool_)
    return np.asarray(cap.whole_free[nodes] >= req.gpus, dtype=np.bool_)


def passes(filters: Sequence[Any], req: Request, cap: Capacity, nodes: IntArray) -> BoolArray:
    """The filters' verdicts (`on`) for `nodes`; filters `vacuous` for `req` are skipped."""
    return _passes(_active(filters, req), req, cap, nodes)


def _active(filters: Sequence[Any], req: Request) -> list[Any]:
    """The filters that may reject a node for `req`: all but those that say they pass every node."""
    out = []
    for flt in filters:
        vacuous = getattr(flt, "vacuous", None)
        if vacuous is None or not vacuous(req):
            out.append(flt)
    return out


def _passes(active: Sequence[Any], req: Request, cap: Capacity, nodes: IntArray) -> BoolArray:
    ok: BoolArray | None = None
    if len(nodes):
        for flt in active:
            got = flt.on(req, cap, nodes)
            ok = got if ok is None else ok & got
    return np.ones(len(nodes), dtype=np.bool_) if ok is None else ok


class _Kept:
    """A request's feasible mask on one capacity, its count per domain of one level, and the capacity
    generation and schedulable flags it reflects."""

    __slots__ = ("counts", "filters", "level", "mask", "schedulable", "seen")

    def __init__(
        self,
        filters: Sequence[Any],
        mask: BoolArray,
        counts: IntArray,
        level: Level,
        seen: int,
        schedulable: BoolArray,
    ) -> None:
        self.filters, self.mask, self.counts, self.level, self.seen, self.schedulable = (
            filters,
            mask,
            counts,
            level,
            seen,
            schedulable,
        )


_KEPT_ENTRIES = 32
KEEP_MASKS = True
"""Whether gangs keep their feasible masks between decisions (`feasible_kept`); False: a full pass."""


def feasible_kept(
    filters: Sequence[Any], req: Request, cap: Capacity, level: Level
) -> tuple[BoolArray, IntArray] | None:
    """The filters' feasible mask for `req` on `cap` and its count per domain of `level`, kept on the
    capacity (`Capacity.memo`) between calls and refreshed for the nodes changed since the last one
    (`Capacity.changed_since`) with the filters' `on`; recomputed whole when many nodes changed or a
    node's schedulable flag was written. (None is kept in the signature for callers; it is not returned.)

    The mask is kept per member demand (GPUs, CPU, memory and models asked of each node), not per
    request: gangs that differ only in their node count or level share one mask, which the changes of
    a few decisions bring up to date. Exact on the filters' contract (a node's verdict depends on that
    node's state and the member demand alone, see `framework.Filter`) and the capacity's (free capacity
    changes through `take` and `give_back`)."""
    member = (req.gpus, req.gpu_milli, req.cpu_milli, req.memory_mib, req.models)
    # Keyed by the filters' identity (the entry holds them, so the id cannot be reused while it lives).
    key = ("feasible", id(filters), member, int(level))
    entry = cap.memo.get(key)
    topo = cap.fleet.topology
    n = len(cap.cpu_free)
    if (
        isinstance(entry, _Kept)
        and entry.filters is filters
        and _same_flags(entry.schedulable, cap.schedulable)
    ):
        if entry.seen != cap.generation:
            changed = cap.changed_since(entry.seen)
            if 4 * len(changed) > n:
                entry = None
            elif changed.size:
                now = passes(filters, req, cap, changed)
                step = now.astype(np.int64) - entry.mask[changed]
                entry.mask[changed] = now
                moved = step != 0
                if moved.any():
                    np.add.at(entry.counts, topo.domain_of[level][changed[moved]], step[moved])
            if entry is not None:
                entry.seen = cap.generation
    else:
        entry = None
    if entry is None:
        mask = np.ones(n, dtype=np.bool_)
        for f in filters:
            mask &= f(req, cap)
        counts = np.add.reduceat(mask.view(np.uint8), topo.starts[level], dtype=np.int64)
        entry = _Kept(filters, mask, counts, level, cap.generation, cap.schedulable.copy())
        if len(cap.memo) >= _KEPT_ENTRIES:
            cap.memo.pop(next(iter(cap.memo)))
        cap.memo[key] = entry
    return _readonly(entry.mask), _readonly(entry.counts)


def _same_flags(a: BoolArray, b: BoolArray) -> bool:
    """`np.array_equal` for two boolean arrays, compared eight flags to a word when their layout allows."""
    if (
        a.shape == b.shape
        and a.ndim == 1
        and a.size % 8 == 0
        and a.flags.c_contiguous
        and b.flags.c_contiguous
        and a.dtype == b.dtype == np.bool_
    ):
        return bool(np.array_equal(a.view(np.uint64), b.view(np.uint64)))
    return bool(np.array_equal(a, b))


def _readonly(a: A) -> A:
    view = a.view()
    view.flags.writeable = False
    return view


def nodes_of(topo: Topology, level: Level, doms: IntArray) -> IntArray:
    """The nodes of domains `doms` of `level`, in order."""
    if doms.size == 0:
        return np.zeros(0, dtype=np.int64)
    if doms.size == 1:
        d = int(doms[0])
        return np.arange(int(topo.starts[level][d]), int(topo.ends[level][d]), dtype=np.int64)
    lo = topo.starts[level][doms]
    lengths = topo.ends[level][doms] - lo
    shift = np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
    return np.asarray(shift + np.arange(int(lengths.sum())), dtype=np.int64)

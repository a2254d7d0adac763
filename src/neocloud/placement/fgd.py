"""Fragmentation Gradient Descent (FGD, USENIX ATC'23 "Beware of Fragmentation").

A node's fragmentation, measured against a workload (request shapes with weights p_t), is the free
GPU capacity that typical requests could not use:

    F(node) = Σ_t p_t · frag_t(node)
    frag_t  = free milli-GPU on the GPUs with less than the shape's per-GPU milli free, when the node
              can host the shape (model allowed, enough CPU, enough such GPUs); all free milli-GPU
              otherwise (and always for CPU-only shapes, which can use none of it).

FGD places each request where F grows least. Rewriting F as

    F = free − Σ_m high_m · W_m(model, cpu bucket, cnt_m)

where, for each distinct per-GPU milli m of the workload, cnt_m and high_m are the number and the
summed free capacity of the node's GPUs with at least m free, and W_m sums the weights of the shapes
with that m which the node's model, CPU and count can host, makes the measure a table lookup. The
per-node (cnt, high, F) are cached, each row stamped with the capacity generation it reflects, and a
row is refreshed only when it is read and the node changed since (`Capacity.version`): a decision costs
its candidates, never the fleet. The fragmentation after a tentative placement is computed for all
candidates (and, for GPU-sharing requests, every distinct free value of their GPUs) in a few vectorised
operations from the deltas.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.fleet.fleet import Fleet
from neocloud.placement.framework import Candidates, Scores
from neocloud.placement.request import Request
from neocloud.placement.workload import Workload

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_SCALAR_ROWS = 8
_MEMO_SHAPES = 64  # request shapes whose per-node growth is kept (one float and one int per node each)
"""Up to this many candidates, the growth of a whole-GPU request is computed on Python numbers."""


@dataclass(frozen=True, slots=True)
class Options:
    """Tentative placements of one request: `pos[i]` indexes the candidate, `slot[i]` is the GPU a
    sharing request would take (-1 otherwise), `delta[i]` the growth of fragmentation in milli-GPU.
    Options are grouped by candidate, in candidate order; every candidate has at least one."""

    pos: IntArray
    slot: IntArray
    delta: FloatArray
    starts: IntArray

    def best_per_candidate(self) -> FloatArray:
        """The smallest fragmentation growth each candidate can offer."""
        return np.minimum.reduceat(self.delta, self.starts)


class Fragmentation:
    """FGD's measure for one workload (None: the built-in whole-GPU one), bound to the fleet of the
    capacity it is used with, with a per-node cache kept in step with that capacity."""

    def __init__(self, workload: Workload | None = None) -> None:
        self.workload = workload
        self.fleet: Fleet | None = None
        self._cap: Capacity | None = None

    def bind(self, fleet: Fleet) -> None:
        """Build the tables for `fleet` (done on first use, and again if another fleet comes)."""
        if fleet is self.fleet:
            return
        self.fleet = fleet
        workload = self.workload or Workload.whole_gpus(fleet.node_gpus.tolist())
        gpu_shapes = [(s, w) for s, w in zip(workload.shapes, workload.weights, strict=True) if s.gpus > 0]
        self.thresholds: IntArray = np.array(
            sorted({s.gpu_milli for s, _ in gpu_shapes}) or [MILLI], dtype=np.int64
        )
        self.cpu_levels: IntArray = np.array(sorted({s.cpu_milli for s, _ in gpu_shapes}), dtype=np.int64)
        width = int(fleet.node_gpus.max())
        table = np.zeros((len(self.thresholds), len(fleet.models), len(self.cpu_levels) + 1, width + 1))
        for s, w in gpu_shapes:
            m = int(np.searchsorted(self.thresholds, s.gpu_milli))
            level = int(np.searchsorted(self.cpu_levels, s.cpu_milli))
            for i, name in enumerate(fleet.models):
                if s.models is None or name in s.models:
                    table[m, i, level + 1 :, s.gpus :] += w
        self.table: FloatArray = table
        # The table flattened, with each axis' stride: a lookup is one np.take on linear indices.
        self._flat: FloatArray = table.ravel()
        s_m, s_model, s_bucket, _ = (st // table.itemsize for st in table.strides)
        self._m_offset: IntArray = (np.arange(len(self.thresholds), dtype=np.int64) * s_m)[None, :]
        self._s_model, self._s_bucket = int(s_model), int(s_bucket)
        self._single = len(self.thresholds) == 1
        n = len(fleet.nodes)
        self.cnt: IntArray = np.zeros((n, len(self.thresholds)), dtype=np.int64)
        self.high: IntArray = np.zeros((n, len(self.thresholds)), dtype=np.int64)
        self.total: IntArray = np.zeros(n, dtype=np.int64)
        self.frag: FloatArray = np.zeros(n)
        self._seen: IntArray = np.full(n, -1, dtype=np.int64)  # per row: the generation it reflects
        self._cap = None
        self._memo: dict[tuple[int, int, int, frozenset[str] | None], tuple[FloatArray, IntArray]] = {}

    # -- the measure -------------------------------------------------------------------------------
    def _bucket(self, cpu: IntArray) -> IntArray:
        if len(self.cpu_levels) == 1:
            return np.asarray(cpu >= self.cpu_levels[0], dtype=np.int64)
        return np.searchsorted(self.cpu_levels, cpu, side="right").astype(np.int64)

    def _frag(
        self, total: IntArray, cnt: IntArray, high: IntArray, cpu: IntArray, model: IntArray
    ) -> FloatArray:
        base = model * self._s_model + self._bucket(cpu) * self._s_bucket
        if self._single:  # one threshold: the sum has one term (the same float as einsum's)
            return np.asarray(total - high[:, 0] * np.take(self._flat, base + cnt[:, 0]), dtype=np.float64)
        weights = np.take(self._flat, self._m_offset + base[:, None] + cnt)
        return np.asarray(total - np.einsum("ij,ij->i", high.astype(np.float64), weights), dtype=np.float64)

    def _stats(self, rows: npt.NDArray[np.integer]) -> tuple[IntArray, IntArray, IntArray]:
        g = rows.astype(np.int64)
        ge = g[:, :, None] >= self.thresholds[None, None, :]
        return g.sum(axis=1), ge.sum(axis=1), (g[:, :, None] * ge).sum(axis=1)

    def _use(self, cap: Capacity) -> None:
        """Bind to `cap`'s fleet; forget every cached row and memo when `cap` is not the last capacity
        seen (the generations of two capacities are unrelated: a copy shares its original's past)."""
        self.bind(cap.fleet)
        if cap is not self._cap:
            self._cap = cap
            self._seen.fill(-1)
            self._memo.clear()

    def sync(self, cap: Capacity, rows: IntArray | None = None) -> None:
        """Bring the cached rows of `rows` (None: every node) up to date with `cap`: those whose node
        changed since the row was computed, or all of them for a capacity not seen before."""
        stale = self._recount(cap, rows)
        if stale.size:
            self.frag[stale] = self._frag(
                self.total[stale],
                self.cnt[stale],
                self.high[stale],
                cap.cpu_free[stale],
                cap.fleet.node_model[stale],
            )

    def _recount(self, cap: Capacity, rows: IntArray | None) -> IntArray:
        """`sync`'s first half: refresh (total, cnt, high) of the stale rows among `rows` and stamp
        them; their `frag` is left to the caller. Returns the stale rows."""
        self._use(cap)
        if rows is None:
            stale = np.flatnonzero(self._seen < cap.version)
        else:
            stale = rows[self._seen[rows] < cap.version[rows]]
        if stale.size:
            total, cnt, high = self._stats(cap.gpu_free[stale])
            self.total[stale], self.cnt[stale], self.high[stale] = total, cnt, high
            self._seen[stale] = cap.version[stale]
        return stale

    def _frag_refreshing(
        self,
        stale: IntArray,
        total: IntArray,
        cnt: IntArray,
        high: IntArray,
        cpu: IntArray,
        models: IntArray,
        cap: Capacity,
    ) -> FloatArray:
        """F of the tentative states (total, cnt, high, cpu, models), and the stale rows' F brought up
        to date in the same evaluation."""
        if not stale.size:
            return self._frag(total, cnt, high, cpu, models)
        model = cap.fleet.node_model
        both = self._frag(
            np.concatenate((self.total[stale], total)),
            np.concatenate((self.cnt[stale], cnt)),
            np.concatenate((self.high[stale], high)),
            np.concatenate((cap.cpu_free[stale], cpu)),
            np.concatenate((model[stale], models)),
        )
        self.frag[stale] = both[: stale.size]
        return both[stale.size :]

    def node_fragmentation(self, cap: Capacity) -> FloatArray:
        """F for every node of `cap` (milli-GPU)."""
        self.sync(cap)
        return self.frag.copy()

    # -- tentative placements ----------------------------------------------------------------------
    def options(self, req: Request, cap: Capacity, candidates: Candidates) -> Options:
        """Fragmentation growth of every way to place `req` on each candidate (all of which fit it)."""
        stale = self._recount(cap, candidates)  # their F is computed below, with the tentative ones
        c = len(candidates)
        if req.shares_gpu:
            rows = cap.gpu_free[candidates]
            order = np.argsort(rows, axis=1, kind="stable")
            ordered = np.take_along_axis(rows, order, axis=1)
            keep = ordered >= req.gpu_milli
            keep[:, 1:] &= ordered[:, 1:] != ordered[:, :-1]
            pos, col = np.nonzero(keep)
            slot = order[pos, col].astype(np.int64)
            free = ordered[pos, col].astype(np.int64)
            taken, k = req.gpu_milli, 1
        else:
            pos = np.arange(c)
            slot = np.full(c, -1, dtype=np.int64)
            free = np.full(c, MILLI, dtype=np.int64)
            taken, k = (MILLI, req.gpus) if req.gpus else (0, 0)
        nodes = candidates[pos]
        if req.shares_gpu:
            thr = self.thresholds[None, :]
            before = free[:, None] >= thr
            after = (free - taken)[:, None] >= thr
            cnt = self.cnt[nodes] - (before.astype(np.int64) - after)
            high = self.high[nodes] - (before * free[:, None] - after * (free - taken)[:, None])
        elif k:
            # k whole GPUs leave: each counted at every threshold before, at none after.
            cnt = self.cnt[nodes] - k
            high = self.high[nodes] - k * MILLI
        else:
            cnt, high = self.cnt[nodes], self.high[nodes]
        total = self.total[nodes] - k * taken
        cpu = cap.cpu_free[nodes] - req.cpu_milli
        model = cap.fleet.node_model
        frag = self._frag_refreshing(stale, total, cnt, high, cpu, model[nodes], cap)
        starts = np.searchsorted(pos, np.arange(c)).astype(np.int64)
        return Options(pos.astype(np.int64), slot, frag - self.frag[nodes], starts)

    def best_growth(self, req: Request, cap: Capacity, candidates: Candidates) -> FloatArray:
        """The smallest fragmentation growth each candidate offers `req` (milli-GPU).

        Growth depends only on the node's free state and on the request's shape, so it is memoised per
        shape and recomputed only for the candidates that changed since (`Capacity.version`): between
        two requests of one shape only the few nodes placed on in between are measured again."""
        self._use(cap)
        key = (req.gpus, req.gpu_milli if req.gpus else 0, req.cpu_milli, req.models)
        entry = self._memo.get(key)
        if entry is None:
            n = len(cap.cpu_free)
            # per node: its growth, and the generation of the node's state it was measured on (-1: never).
            # One stamp per node, not per shape: a call that leaves a changed node out must not mark it
            # fresh for the next call that includes it.
            best, seen = np.full(n, np.nan), np.full(n, -1, dtype=np.int64)
            if len(self._memo) >= _MEMO_SHAPES:
                self._memo.pop(next(iter(self._memo)))  # the oldest shape: the memo stays bounded
            self._memo[key] = (best, seen)
        else:
            best, seen = entry
        if self._single and not req.shares_gpu and len(candidates) <= _SCALAR_ROWS:
            return self._best_growth_scalar(req, cap, candidates, best, seen)
        got = best[candidates]
        stale = cap.version[candidates] > seen[candidates]
        if stale.any():
            rows = candidates[stale]
            if req.shares_gpu:
                got[stale] = best[rows] = self.options(req, cap, rows).best_per_candidate()
            else:  # one option per candidate: its growth, without building the options
                got[stale] = best[rows] = self._whole_growth(req, cap, rows)
            seen[rows] = cap.version[rows]
        return got

    def _whole_growth(self, req: Request, cap: Capacity, nodes: Candidates) -> FloatArray:
        """`options(req, cap, nodes).delta` for a request of whole GPUs (or none), which has exactly
        one option per node; the same arithmetic, in fewer steps."""
        if self._single and len(nodes) <= _SCALAR_ROWS:
            return self._whole_growth_scalar(req, cap, nodes)
        stale = self._recount(cap, nodes)
        k = req.gpus
        cnt, high, total = self.cnt[nodes], self.high[nodes], self.total[nodes]
        if k:  # k whole GPUs leave: each counted at every threshold before, at none after
            cnt, high, total = cnt - k, high - k * MILLI, total - k * MILLI
        cpu = cap.cpu_free[nodes] - req.cpu_milli
        model = cap.fleet.node_model
        frag = self._frag_refreshing(stale, total, cnt, high, cpu, model[nodes], cap)
        return np.asarray(frag - self.frag[nodes], dtype=np.float64)

    def _whole_growth_scalar(self, req: Request, cap: Capacity, nodes: Candidates) -> FloatArray:
        """`_whole_growth` on Python numbers, for a few nodes and one threshold: every sum then has one
        term, so each float is the one the vectorised path computes (the same IEEE operations in the
        same order), without its per-call overhead. Stale cached rows are refreshed as `sync` does."""
        return np.asarray(self._scalar_growths(req, cap, nodes.tolist()), dtype=np.float64)

    def _scalar_growths(self, req: Request, cap: Capacity, nodes: list[int]) -> list[float]:
        """`_whole_growth_scalar` as a list of Python floats."""
        self._use(cap)
        threshold = int(self.thresholds[0])
        levels = self.cpu_levels.tolist()
        flat, s_model, s_bucket = self._flat, self._s_model, self._s_bucket
        node_model, cpu_free, versions = cap.fleet.node_model, cap.cpu_free, cap.version
        k = req.gpus
        out = []
        for node in nodes:
            model = int(node_model[node])
            cpu = int(cpu_free[node])
            version = int(versions[node])
            if self._seen[node] < version:
                free = cap.gpu_free[node].tolist()
                total = sum(free)
                high = sum(x for x in free if x >= threshold)
                cnt = sum(1 for x in free if x >= threshold)
                weight = float(flat[model * s_model + bisect_right(levels, cpu) * s_bucket + cnt])
                now = total - high * weight
                self.total[node], self.cnt[node, 0], self.high[node, 0] = total, cnt, high
                self.frag[node] = now
                self._seen[node] = version
            else:
                total, cnt, high = int(self.total[node]), int(self.cnt[node, 0]), int(self.high[node, 0])
                now = float(self.frag[node])
            if k:
                total, cnt, high = total - k * MILLI, cnt - k, high - k * MILLI
            bucket = bisect_right(levels, cpu - req.cpu_milli)
            weight = float(flat[model * s_model + bucket * s_bucket + cnt])
            out.append((total - high * weight) - now)
        return out

    def _best_growth_scalar(
        self, req: Request, cap: Capacity, candidates: Candidates, best: FloatArray, seen: IntArray
    ) -> FloatArray:
        """`best_growth` for a few candidates of a whole-GPU request and one threshold, on Python
        numbers: the memoised growth of each candidate that did not change, the growth measured again
        (`_scalar_growths`, the same floats) of those that did."""
        nodes: list[int] = candidates.tolist()
        versions: list[int] = cap.version[candidates].tolist()
        stamps: list[int] = seen[candidates].tolist()
        got: list[float] = best[candidates].tolist()
        stale = [i for i, (v, m) in enumerate(zip(versions, stamps, strict=True)) if v > m]
        if stale:
            fresh = self._scalar_growths(req, cap, [nodes[i] for i in stale])
            for i, value in zip(stale, fresh, strict=True):
                got[i] = best[nodes[i]] = value
                seen[nodes[i]] = versions[i]
        return np.asarray(got, dtype=np.float64)

    def best_slot(self, req: Request, cap: Capacity, node: int, quantised: bool = False) -> int:
        """For a sharing request on `node`: the GPU whose use grows fragmentation least, lowest index
        among equals. With `quantised`, "least" is judged on FGD's integer score, as the artifact's
        GPU selection does (it keeps the first GPU, in index order, with the highest score)."""
        opts = self.options(req, cap, np.array([node], dtype=np.int64))
        if quantised:
            score = sigmoid_score(opts.delta)
            return int(opts.slot[score >= score.max()].min())
        best = opts.delta.min()
        return int(opts.slot[opts.delta <= best + 1e-9].min())


def sigmoid_score(delta: FloatArray) -> Scores:
    """The artifact's node score: ⌊100 · sigmoid(−Δ / 1000)⌋ on a 0–100 integer scale (Δ in milli-GPU).
    The truncation makes many nodes tie; ties are then broken at random."""
    x = np.divide(delta, MILLI)
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:  # a scalar, or another float type
        return np.floor(100.0 / (1.0 + np.exp(np.clip(delta / MILLI, -50, 50))))
    np.maximum(x, -50.0, out=x)  # np.clip(x, -50, 50), without its Python wrapper: the same floats
    np.minimum(x, 50.0, out=x)
    np.exp(x, out=x)
    np.add(x, 1.0, out=x)
    np.divide(100.0, x, out=x)
    return np.floor(x, out=x)


@dataclass(slots=True)
class FgdScore:
    """FGD as published: the less fragmentation grows, the higher the (quantised) score."""

    frag: Fragmentation
    name: str = "fgd"

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        return sigmoid_score(self.frag.best_growth(req, cap, candidates))


@dataclass(slots=True)
class FragmentationGrowth:
    """The exact (unquantised) decrease of fragmentation, in GPUs: higher is better. With
    `sharing_only`, 0 for requests that do not share a GPU."""

    frag: Fragmentation
    name: str = "fragmentation-growth"
    sharing_only: bool = False

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        if self.sharing_only and not req.shares_gpu:
            return np.zeros(len(candidates))
        return -self.frag.best_growth(req, cap, candidates) / MILLI


@dataclass(slots=True)
class FgdGpus:
    """GPU picker: whole requests take the lowest-numbered free GPUs; a sharing request takes the GPU
    whose use grows fragmentation least (by FGD's integer score when `quantised`, as published: the
    lowest-numbered GPU among those with the best score)."""

    frag: Fragmentation
    quantised: bool = False

    def __call__(self, req: Request, cap: Capacity, node: int, rng: random.Random) -> tuple[int, ...]:
        if req.shares_gpu:
            return (self.frag.best_slot(req, cap, node, self.quantised),)
        free = np.flatnonzero(cap.gpu_free[node] == MILLI)
        return tuple(int(s) for s in free[: req.gpus])

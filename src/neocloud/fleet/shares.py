"""What a placement takes on a node (`NodeShare`), and a batch of shares checked and laid out as arrays
(`Batch`) for `Capacity.take` and `Capacity.give_back` to apply in a few vectorised operations.

GPU capacity is in milli-GPU: a whole GPU is `MILLI`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from neocloud.kernel.errors import Conflict

MILLI = 1000

IntArray = npt.NDArray[np.int64]
_NODE, _CPU, _MEM, _MILLI, _SLOTS = (
    attrgetter("node"),
    attrgetter("cpu_milli"),
    attrgetter("memory_mib"),
    attrgetter("milli"),
    attrgetter("gpu_slots"),
)
_KEY = attrgetter("gpu_slots", "milli", "cpu_milli", "memory_mib")


@dataclass(frozen=True, slots=True)
class NodeShare:
    """What a placement takes on one node: `milli` from each of `gpu_slots`, plus CPU and memory."""

    node: int
    gpu_slots: tuple[int, ...]
    milli: int
    cpu_milli: int
    memory_mib: int


@dataclass(frozen=True, slots=True)
class Batch:
    """The shares of one `take` / `give_back` as arrays: per share, and per (node, slot) GPU use."""

    nodes: IntArray  # per share
    cpu: IntArray
    mem: IntArray
    slot_node: IntArray  # per GPU slot used
    slot: IntArray
    slot_milli: IntArray
    changed: IntArray  # the distinct nodes, sorted
    distinct_nodes: bool  # no two shares on one node


class UniformShares(tuple[NodeShare, ...]):
    """A gang's shares: the same GPU slots, milli-GPU, CPU and memory on each of `nodes`. A tuple of
    `NodeShare` like any other; it also carries its nodes as an array, so `Capacity.take` and
    `give_back` read no share object. Build it with `uniform_shares`, which guarantees both agree."""

    nodes: IntArray
    """The shares' nodes, in order; read-only."""


_NEW = object.__new__
_SET = tuple(NodeShare.__dict__[f].__set__ for f in ("node", "gpu_slots", "milli", "cpu_milli", "memory_mib"))


def uniform_shares(
    nodes: IntArray, gpu_slots: tuple[int, ...], milli: int, cpu_milli: int, memory_mib: int
) -> UniformShares:
    """The shares taking `gpu_slots` x `milli`, `cpu_milli` and `memory_mib` on each of `nodes` (in the
    order given). The `NodeShare` values are the same as `NodeShare(...)` builds; they are filled field
    by field through the slots' descriptors, a C-level loop per field, because constructing a frozen
    dataclass one at a time costs more than the rest of a large gang's decision."""
    n = len(nodes)
    objects = list(map(_NEW, repeat(NodeShare, n)))
    node, slots, per, cpu, mem = _SET
    any(map(node, objects, nodes.tolist()))  # each call returns None: `any` runs the loop to the end
    any(map(slots, objects, repeat(gpu_slots)))
    any(map(per, objects, repeat(milli)))
    any(map(cpu, objects, repeat(cpu_milli)))
    any(map(mem, objects, repeat(memory_mib)))
    shares = UniformShares(objects)
    fixed = np.array(nodes, dtype=np.int64)
    fixed.flags.writeable = False
    shares.nodes = fixed
    return shares


def batch(shares: tuple[NodeShare, ...], node_gpus: IntArray, width: int) -> Batch:
    """The shares as a `Batch` for a fleet whose nodes have `node_gpus` GPUs (at most `width`); raises
    Conflict for a share that names no node or slot, asks for negative amounts or a slot twice."""
    first = shares[0]
    if type(shares) is UniformShares:
        uniform = _uniform_batch(shares.nodes, first, node_gpus)
        if uniform is not None:
            return uniform
        return _general_batch(shares, node_gpus, width)
    key = (first.gpu_slots, first.milli, first.cpu_milli, first.memory_mib)
    if all(map(key.__eq__, map(_KEY, shares))):
        nodes = np.fromiter(map(_NODE, shares), dtype=np.int64, count=len(shares))
        uniform = _uniform_batch(nodes, first, node_gpus)
        if uniform is not None:
            return uniform
    return _general_batch(shares, node_gpus, width)


def _uniform_batch(nodes: IntArray, first: NodeShare, node_gpus: IntArray) -> Batch | None:
    """Shares with the same slots, milli, CPU and memory on each of `nodes` (a gang's): the per-share
    figures are checked once; None (the general path, which names the error) when anything is off."""
    n = len(nodes)
    slots = first.gpu_slots
    k = len(slots)
    if (
        int(nodes.min()) < 0
        or int(nodes.max()) >= len(node_gpus)
        or first.cpu_milli < 0
        or first.memory_mib < 0
    ):
        return None
    if k and (
        len(set(slots)) != k
        or not 0 <= first.milli <= MILLI
        or min(slots) < 0
        or max(slots) >= int(node_gpus[nodes].min())
    ):
        return None
    changed = sorted_distinct(nodes)
    slot = np.tile(np.asarray(slots, dtype=np.int64), n)
    return Batch(
        nodes,
        np.full(n, first.cpu_milli, dtype=np.int64),
        np.full(n, first.memory_mib, dtype=np.int64),
        np.repeat(nodes, k),
        slot,
        np.full(n * k, first.milli, dtype=np.int64),
        changed,
        changed.size == n,
    )


def _general_batch(shares: tuple[NodeShare, ...], node_gpus: IntArray, width: int) -> Batch:
    n = len(shares)
    n_nodes = len(node_gpus)
    nodes = np.fromiter(map(_NODE, shares), dtype=np.int64, count=n)
    if int(nodes.min()) < 0 or int(nodes.max()) >= n_nodes:
        bad = nodes[(nodes < 0) | (nodes >= n_nodes)][0]
        raise Conflict(f"no node with index {int(bad)}")
    cpu = np.fromiter(map(_CPU, shares), dtype=np.int64, count=n)
    mem = np.fromiter(map(_MEM, shares), dtype=np.int64, count=n)
    milli = np.fromiter(map(_MILLI, shares), dtype=np.int64, count=n)
    slot_tuples = list(map(_SLOTS, shares))
    per = np.fromiter(map(len, slot_tuples), dtype=np.int64, count=n)
    if (cpu < 0).any() or (mem < 0).any():
        raise Conflict("a share asks for negative CPU or memory")
    total = int(per.sum())
    slot = np.fromiter(chain.from_iterable(slot_tuples), dtype=np.int64, count=total)
    changed = sorted_distinct(nodes)
    distinct_nodes = changed.size == n
    if total:
        if ((milli < 0) | (milli > MILLI))[per > 0].any():
            raise Conflict(f"a share's milli-GPU per slot must be in 0..{MILLI}")
        uniform = bool((per == per[0]).all())
        slot_node = np.repeat(nodes, per) if not uniform else np.repeat(nodes, int(per[0]))
        slot_milli = np.repeat(milli, per)
        outside = (slot < 0) | (slot >= node_gpus[slot_node])
        if outside.any():
            i = int(np.argmax(outside))
            raise Conflict(f"node {int(slot_node[i])} has no GPU slot {int(slot[i])}")
        if uniform:
            ordered = np.sort(slot.reshape(n, int(per[0])), axis=1)
            twice = bool((ordered[:, 1:] == ordered[:, :-1]).any())
        else:
            owner = np.repeat(np.arange(n), per)
            twice = np.unique(owner * width + slot).size != total
        if twice:
            raise Conflict("a GPU slot appears twice in one share")
    else:
        slot_node = slot_milli = slot
    return Batch(nodes, cpu, mem, slot_node, slot, slot_milli, changed, distinct_nodes)


def slot_sums(b: Batch, width: int) -> tuple[IntArray, IntArray, IntArray] | None:
    """Milli-GPU used per distinct (node, slot) of the batch (`width`: GPU slots per node row)."""
    if b.slot.size == 0:
        return None
    if b.distinct_nodes:  # slots are distinct within each share, so every (node, slot) is
        return b.slot_node, b.slot, b.slot_milli
    key = b.slot_node * width + b.slot
    uniq, inverse = np.unique(key, return_inverse=True)
    milli = np.bincount(inverse.reshape(-1), weights=b.slot_milli, minlength=uniq.size).astype(np.int64)
    return uniq // width, uniq % width, milli


def node_sums(b: Batch, values: IntArray) -> IntArray:
    """Per node of `b.changed`, the sum of a per-share figure."""
    if b.distinct_nodes:
        if bool((b.nodes[1:] > b.nodes[:-1]).all()):
            return values
        return values[np.argsort(b.nodes)]
    pos = np.searchsorted(b.changed, b.nodes)
    return np.bincount(pos, weights=values, minlength=b.changed.size).astype(np.int64)


def sorted_distinct(a: IntArray) -> IntArray:
    """The distinct values of `a`, sorted: `np.unique` without its per-call overhead, and `a` itself when
    it is already strictly increasing (a gang's nodes usually are)."""
    if a.size < 2 or bool((a[1:] > a[:-1]).all()):
        return a
    s = np.sort(a)
    keep = s[1:] != s[:-1]
    if keep.all():
        return s
    return np.concatenate((s[:1], s[1:][keep]))

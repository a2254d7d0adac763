"""The single-node placement policies, selectable by name.

`get_policy(name, workload)` builds a fresh policy (stateful scorers keep per-policy caches, so
build one per capacity you drive). `workload` is the request distribution FGD and `default` measure
fragmentation against; None means the built-in distribution of whole-GPU cloud requests.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

import numpy as np

from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.kernel.errors import InvalidInput
from neocloud.placement.default import neocloud_default
from neocloud.placement.fgd import FgdGpus, FgdScore, Fragmentation
from neocloud.placement.filters import standard_filters
from neocloud.placement.framework import Policy
from neocloud.placement.pickers import tightest_gpus
from neocloud.placement.request import Request
from neocloud.placement.scorers import BestFit, DotProduct, FirstFit, GpuClustering, GpuPacking
from neocloud.placement.workload import Workload


def random_gpus(req: Request, cap: Capacity, node: int, rng: random.Random) -> tuple[int, ...]:
    """A sharing request takes a random GPU that fits; whole requests the lowest-numbered free GPUs."""
    row = cap.gpu_free[node]
    if req.shares_gpu:
        fits = np.flatnonzero(row >= req.gpu_milli)
        return (int(fits[rng.randrange(len(fits))]),)
    return tuple(int(s) for s in np.flatnonzero(row == MILLI)[: req.gpus])


def first_gpus(req: Request, cap: Capacity, node: int, rng: random.Random) -> tuple[int, ...]:
    """The lowest-numbered GPUs that fit."""
    row = cap.gpu_free[node]
    need = req.gpu_milli if req.shares_gpu else MILLI
    return tuple(int(s) for s in np.flatnonzero(row >= need)[: req.gpus])


def _random(_: Workload | None) -> Policy:
    return Policy("random", standard_filters(), (), random_gpus, "a uniformly random node that fits")


def _first_fit(_: Workload | None) -> Policy:
    return Policy(
        "first-fit",
        standard_filters(),
        ((FirstFit(), 1.0),),
        first_gpus,
        "the lowest-numbered node that fits",
    )


def _best_fit(_: Workload | None) -> Policy:
    return Policy(
        "best-fit",
        standard_filters(),
        ((BestFit(), 1.0),),
        tightest_gpus,
        "least CPU and GPU left after placing (artifact formula)",
    )


def _dot_product(_: Workload | None) -> Policy:
    return Policy(
        "dot-product",
        standard_filters(),
        ((DotProduct(), 1.0),),
        tightest_gpus,
        "Tetris dot product of free and requested resources",
    )


def _gpu_packing(_: Workload | None) -> Policy:
    return Policy(
        "gpu-packing",
        standard_filters(),
        ((GpuPacking(), 1.0),),
        tightest_gpus,
        "shared GPUs first, then partly used nodes, then free nodes",
    )


def _gpu_clustering(_: Workload | None) -> Policy:
    return Policy(
        "gpu-clustering",
        standard_filters(),
        ((GpuClustering(), 1.0),),
        tightest_gpus,
        "requests of one kind together",
    )


def fgd_policy(workload: Workload | None = None) -> Policy:
    """FGD as published."""
    frag = Fragmentation(workload)
    return Policy(
        "fgd",
        standard_filters(),
        ((FgdScore(frag), 1.0),),
        FgdGpus(frag, quantised=True),
        "Fragmentation Gradient Descent (ATC'23)",
        extra={"fragmentation": frag},
    )


_REGISTRY: Final[dict[str, Callable[[Workload | None], Policy]]] = {
    "random": _random,
    "first-fit": _first_fit,
    "best-fit": _best_fit,
    "dot-product": _dot_product,
    "gpu-packing": _gpu_packing,
    "gpu-clustering": _gpu_clustering,
    "fgd": fgd_policy,
    "default": neocloud_default,
}
POLICY_NAMES: Final[tuple[str, ...]] = tuple(_REGISTRY)


def get_policy(name: str, workload: Workload | None = None) -> Policy:
    """The policy called `name`; InvalidInput lists the known names otherwise."""
    key = name.strip().lower()
    if key in _REGISTRY:
        return _REGISTRY[key](workload)
    raise InvalidInput(f"unknown placement policy {name!r}", details={"known": list(POLICY_NAMES)})

"""Filters: each says, for every node at once, whether the request fits there. The filter's name is the
reason recorded for the nodes it rejects. Each also answers for given nodes only (`on`, the same
verdicts), which lets the single-node pipeline test just the nodes the aggregates leave in play, and
says when it passes every node whatever their state (`vacuous`: a request without CPU, memory or a
model constraint), so the searches over given nodes skip it (`neocloud.placement.search.passes`)."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neocloud.fleet.capacity import Capacity
from neocloud.placement.framework import Candidates, Filter, Mask
from neocloud.placement.request import Request


@dataclass(frozen=True, slots=True)
class Schedulable:
    """Cordoned, draining and failed nodes take nothing new."""

    name: str = "node-unschedulable"

    def __call__(self, req: Request, cap: Capacity) -> Mask:
        return cap.schedulable

    def on(self, req: Request, cap: Capacity, nodes: Candidates) -> Mask:
        return cap.schedulable[nodes]


@dataclass(frozen=True, slots=True)
class GpuModelAllowed:
    """The node's GPU model is one the request allows (any model for CPU-only requests)."""

    name: str = "gpu-model"

    def __call__(self, req: Request, cap: Capacity) -> Mask:
        fleet = cap.fleet
        if req.models is None or req.gpus == 0:
            return np.ones(len(fleet.nodes), dtype=np.bool_)
        return _of_models(fleet.node_model, fleet.models, req.models)

    def on(self, req: Request, cap: Capacity, nodes: Candidates) -> Mask:
        fleet = cap.fleet
        if req.models is None or req.gpus == 0:
            return np.ones(len(nodes), dtype=np.bool_)
        return _of_models(fleet.node_model[nodes], fleet.models, req.models)

    def vacuous(self, req: Request) -> bool:
        return req.models is None or req.gpus == 0


def _of_models(node_model: npt.NDArray[np.int64], models: Sequence[str], wanted: AbstractSet[str]) -> Mask:
    """Which of the nodes (by model index into `models`) have a model in `wanted`: `np.isin`, without
    its sort when every model or a single one is wanted (a single-model fleet, the common case)."""
    allowed = [i for i, m in enumerate(models) if m in wanted]
    if len(allowed) == len(models):
        return np.ones(len(node_model), dtype=np.bool_)
    if len(allowed) == 1:
        return np.asarray(node_model == allowed[0], dtype=np.bool_)
    return np.isin(node_model, allowed)


@dataclass(frozen=True, slots=True)
class EnoughCpu:
    name: str = "cpu"

    def __call__(self, req: Request, cap: Capacity) -> Mask:
        return cap.cpu_free >= req.cpu_milli

    def on(self, req: Request, cap: Capacity, nodes: Candidates) -> Mask:
        return cap.cpu_free[nodes] >= req.cpu_milli

    def vacuous(self, req: Request) -> bool:
        return req.cpu_milli == 0  # free CPU is never negative (`Capacity.take` refuses)


@dataclass(frozen=True, slots=True)
class EnoughMemory:
    name: str = "memory"

    def __call__(self, req: Request, cap: Capacity) -> Mask:
        return cap.mem_free >= req.memory_mib

    def on(self, req: Request, cap: Capacity, nodes: Candidates) -> Mask:
        return cap.mem_free[nodes] >= req.memory_mib

    def vacuous(self, req: Request) -> bool:
        return req.memory_mib == 0  # free memory is never negative (`Capacity.take` refuses)


@dataclass(frozen=True, slots=True)
class EnoughGpus:
    """`gpus` wholly free GPUs, or for a sharing request one GPU with at least `gpu_milli` free."""

    name: str = "free-gpus"

    def __call__(self, req: Request, cap: Capacity) -> Mask:
        if req.gpus == 0:
            return np.ones(len(cap.cpu_free), dtype=np.bool_)
        if req.shares_gpu:
            return np.asarray((cap.gpu_free >= req.gpu_milli).any(axis=1), dtype=np.bool_)
        return cap.whole_free >= req.gpus

    def on(self, req: Request, cap: Capacity, nodes: Candidates) -> Mask:
        if req.gpus == 0:
            return np.ones(len(nodes), dtype=np.bool_)
        if req.shares_gpu:
            return np.asarray((cap.gpu_free[nodes] >= req.gpu_milli).any(axis=1), dtype=np.bool_)
        return cap.whole_free[nodes] >= req.gpus

    def vacuous(self, req: Request) -> bool:
        return req.gpus == 0


def standard_filters() -> tuple[Filter, ...]:
    """The filters every policy applies, cheapest and most selective first."""
    return (Schedulable(), GpuModelAllowed(), EnoughGpus(), EnoughCpu(), EnoughMemory())

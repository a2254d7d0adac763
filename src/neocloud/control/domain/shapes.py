"""Reservations: N GPUs of a model over [start, end), in a shape, and what they cost.

Shapes say how the GPUs may be spread:
- `any`: anywhere, as few nodes as the placement engine manages (largest pieces first);
- `whole-nodes`: whole nodes only (N a multiple of the model's GPUs per node);
- `whole-nvl72`: whole NVLink domains (N a multiple of the model's NVLink domain, 72 for GB200);
- `one-fabric`: whole nodes inside one scalable unit (one spine group), for a tightly coupled job;
- `one-nvl72`: whole nodes inside one NVLink domain (at most a domain: 64 of an NVL72's 72 GPUs where
  the operator keeps spare trays in each domain).
Each shape becomes one or more placement-engine requests (`place_shape`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import numpy as np

from neocloud.fleet.capacity import Capacity, NodeShare
from neocloud.fleet.topology import Level
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import GpuModel, gpu_model
from neocloud.kernel.money import Money, round_half_even
from neocloud.kernel.periods import require_utc
from neocloud.kernel.products import MAX_HOURS
from neocloud.placement.framework import Placement, Placer, Unschedulable, Verdict
from neocloud.placement.request import Request


class Shape(StrEnum):
    ANY = "any"
    WHOLE_NODES = "whole-nodes"
    WHOLE_NVL72 = "whole-nvl72"
    ONE_FABRIC = "one-fabric"
    ONE_NVL72 = "one-nvl72"

    @classmethod
    def parse(cls, text: str) -> Shape:
        try:
            return cls(text.strip().lower().replace("_", "-"))
        except ValueError:
            raise InvalidInput(f"unknown shape {text!r}", details={"known": [s.value for s in cls]}) from None


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    @staticmethod
    def of(start: datetime, hours: int) -> Window:
        require_utc(start, "start")
        if not 1 <= hours <= MAX_HOURS:
            raise InvalidInput(f"hours must be in 1..{MAX_HOURS}", details={"hours": hours})
        return Window(start, start + timedelta(hours=hours))


def validate(model: GpuModel, shape: Shape, gpus: int) -> None:
    """InvalidInput when `gpus` cannot be cut into the shape's units for this model."""
    if gpus < 1:
        raise InvalidInput("gpus must be >= 1", details={"gpus": gpus})
    unit = shape_unit(model, shape)
    if gpus % unit:
        raise InvalidInput(
            f"shape {shape.value} of {model.name} comes in multiples of {unit} GPUs; {gpus} asked",
            details={"gpus": gpus, "multiple_of": unit, "shape": shape.value},
        )


def shape_unit(model: GpuModel, shape: Shape) -> int:
    if shape is Shape.ANY:
        return 1
    if shape is Shape.WHOLE_NVL72:
        return model.nvlink_domain
    return model.gpus_per_node


def place_shape(
    placer: Placer, model: GpuModel, shape: Shape, gpus: int, cap: Capacity, rng: random.Random
) -> Verdict:
    """Place `gpus` GPUs of `model` in `shape` on a copy of `cap`; the verdict's shares hold them all.

    `cap` itself is left unchanged. Unschedulable carries the engine's reasons for the piece that failed.
    """
    validate(model, shape, gpus)
    work = cap.copy()
    models = frozenset({model.name})
    per_node = model.gpus_per_node
    shares: list[NodeShare] = []
    if shape is Shape.ANY:
        mine = (
            np.asarray(cap.fleet.node_model == cap.fleet.models.index(model.name))
            if model.name in cap.fleet.models
            else None
        )
        remaining = gpus
        while remaining:
            if mine is None:
                return Unschedulable(
                    {"gpu-model": len(cap.fleet.nodes)}, f"the fleet has no {model.name} nodes"
                )
            biggest = int(np.max(np.where(mine & work.schedulable, work.whole_free, 0)))
            if biggest == 0:
                return Unschedulable(
                    {"free-gpus": int(np.count_nonzero(mine))},
                    f"{gpus - remaining} of {gpus} {model.name} GPUs free",
                )
            verdict = placer.place(Request(gpus=min(remaining, biggest), models=models), work, rng)
            if isinstance(verdict, Unschedulable):
                return verdict
            work.take(verdict.shares)
            shares.extend(verdict.shares)
            remaining -= min(remaining, biggest)
        return Placement(tuple(shares), "shape:any")
    if shape is Shape.WHOLE_NVL72:
        per_domain = max(model.nvlink_domain // per_node, 1)
        pieces = [Request(gpus=per_node, nodes=per_domain, models=models, within=Level.NVLINK)] * (
            gpus // model.nvlink_domain
        )
    elif shape is Shape.ONE_FABRIC:
        pieces = [Request(gpus=per_node, nodes=gpus // per_node, models=models, within=Level.SU)]
    elif shape is Shape.ONE_NVL72:
        pieces = [Request(gpus=per_node, nodes=gpus // per_node, models=models, within=Level.NVLINK)]
    else:
        pieces = [Request(gpus=per_node, nodes=gpus // per_node, models=models)]
    for req in pieces:
        verdict = placer.place(req, work, rng)
        if isinstance(verdict, Unschedulable):
            return verdict
        work.take(verdict.shares)
        shares.extend(verdict.shares)
    return Placement(tuple(shares), f"shape:{shape.value}")


def max_request(model: GpuModel, shape: Shape, cap: Capacity) -> int:
    """The largest number of GPUs of `model` that one request of `shape` could get from `cap`."""
    fleet = cap.fleet
    if model.name not in fleet.models:
        return 0
    mine = (fleet.node_model == fleet.models.index(model.name)) & cap.schedulable
    free = np.where(mine, cap.whole_free, 0)
    if shape is Shape.ANY:
        return int(free.sum())
    per_node = model.gpus_per_node
    whole = (free >= per_node).astype(np.int64)
    if shape is Shape.WHOLE_NODES:
        return int(whole.sum()) * per_node
    topo = fleet.topology
    if shape is Shape.ONE_FABRIC:
        per_su = topo.per_domain_sum(Level.SU, whole)
        return int(per_su.max(initial=0)) * per_node
    if shape is Shape.ONE_NVL72:
        return int(topo.per_domain_sum(Level.NVLINK, whole).max(initial=0)) * per_node
    per_domain = max(model.nvlink_domain // per_node, 1)
    counts = topo.per_domain_sum(Level.NVLINK, whole)
    return int(np.count_nonzero(counts >= per_domain)) * model.nvlink_domain


def minor_text(minor: int, currency: str = "USD") -> str:
    """Integer minor units as a decimal string: 1234 -> '12.34'."""
    return str(Money(minor, currency))


def total_minor(unit_per_gpu_hour: Decimal, gpus: int, hours: int, currency: str = "USD") -> int:
    """The price of `gpus` x `hours` in minor units, rounded once by money's one rounding rule."""
    return round_half_even(unit_per_gpu_hour * gpus * hours, currency).minor


def model_for(name: str) -> GpuModel:
    return gpu_model(name)

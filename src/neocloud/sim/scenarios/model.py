"""Scenario values: what a simulation runs (fleet, contracts, demand streams, failures, power, SLA),
immutable and already validated (`neocloud.sim.scenarios.parse` builds them)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from neocloud.kernel import reference as ref
from neocloud.sim.scenarios.fields import choice, positive

ENGINES = ("exact", "pooled")
SOURCES = ("philly", "openb", "synthetic", "list")
TRACE_SOURCES = ("philly", "openb")  # real demand, scaled by the same rule (neocloud.sim.demand)
SHAPES = ("whole-nodes", "whole-nvl72")
DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Contract:
    """A reserved contract: `gpus` of the fleet for `term_days` from `start_day`, in `shape`."""

    tenant: str
    gpus: int
    term_days: float
    start_day: float = 0.0
    shape: str = "whole-nvl72"


@dataclass(frozen=True, slots=True)
class Stream:
    """On-demand or spot arrivals scaled to `share` of the fleet's GPUs. On-demand requests that do not
    fit wait up to `max_wait_hours` in a FIFO queue, then are refused; synthetic arrivals use
    `mean_nodes` and `mean_hours`."""

    share: float
    max_wait_hours: float = 1.0
    mean_nodes: float = 2.0
    mean_hours: float = 8.0
    tenants: int = 8


@dataclass(frozen=True, slots=True)
class ListedJob:
    """A job given in the scenario (`demand.source: list`): `product` ("on-demand" or "spot")."""

    product: str
    at_hours: float
    nodes: int
    hours: float
    tenant: int = 0


@dataclass(frozen=True, slots=True)
class ListedFailure:
    """A failure given in the scenario (`failures.schedule`), instead of the fault injector's."""

    at_hours: float
    node: str
    repair_hours: float


@dataclass(frozen=True, slots=True)
class Failures:
    """Node failures from the health context's fault injector (the Llama 3 breakdown by component),
    scaled to `per_gpu_day` failures per GPU-day in all; each repaired after its recommended action's time
    (reset minutes, reboot, part swap up to a day, RMA days), or after `repair_hours` when given.
    `spare_share` of nodes are held out of sale as hot spares; a failed node under a reservation is
    covered by a spare after `swap_minutes` while one is free."""

    per_gpu_day: float = ref.LLAMA3_UNEXPECTED_INTERRUPTIONS_PER_GPU_DAY
    repair_hours: float | None = None
    spare_share: float = ref.SPARE_CAPACITY_SHARE
    swap_minutes: float = ref.SIM_SPARE_SWAP_MINUTES


@dataclass(frozen=True, slots=True)
class Power:
    idle_w_per_gpu: float
    active_w_per_gpu: float
    pue: float


@dataclass(frozen=True, slots=True)
class Sla:
    """Monthly availability `target` of reserved capacity; `tiers` (availability below, credit share of
    that month's reserved invoice), the deepest applicable tier wins."""

    target: float = ref.SLA_TARGET
    tiers: tuple[tuple[float, Decimal], ...] = tuple((a, Decimal(c)) for a, c in ref.SLA_CREDIT_TIERS)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    fleet_preset: str | None
    fleet_params: Mapping[str, Any]
    fleet_file: Path | None
    model: str
    start: datetime = DEFAULT_START
    days: float = 30.0
    engine: str = "exact"
    reserved: tuple[Contract, ...] = ()
    source: str = "philly"
    trace_path: Path | None = None
    workload: str = "default"  # openb: which pod list (openb_pod_list_<workload>.csv)
    job_list: tuple[ListedJob, ...] = ()
    failure_list: tuple[ListedFailure, ...] | None = None
    on_demand: Stream = field(default_factory=lambda: Stream(0.0))
    spot: Stream = field(default_factory=lambda: Stream(0.0))
    failures: Failures = field(default_factory=Failures)
    power: Power | None = None
    sla: Sla = field(default_factory=Sla)
    metering_hours: float = 24.0
    sample_hours: float = 1.0
    currency: str = "USD"

    def with_days(self, days: float | None) -> Scenario:
        return self if days is None else replace(self, days=positive(days, "days"))

    def with_engine(self, engine: str) -> Scenario:
        return replace(self, engine=choice(engine, ENGINES, "engine"))

    def fleet(self) -> Any:
        """The scenario's `neocloud.fleet.fleet.Fleet` (a preset built with its params, or a fleet file)."""
        if self.fleet_file is not None:
            from neocloud.fleet.file import load_fleet

            return load_fleet(self.fleet_file)
        assert self.fleet_preset is not None
        return _preset_fleet(self.fleet_preset, tuple(sorted(self.fleet_params.items())))

    def power_figures(self) -> Power:
        if self.power is not None:
            return self.power
        return default_power(self.model, float(self.fleet_params.get("pue", ref.PUE_MODERN_AI_HALL)))


@functools.lru_cache(maxsize=8)
def _preset_fleet(name: str, params: tuple[tuple[str, Any], ...]) -> Any:
    """Preset fleets are immutable values: build each (name, params) once per process."""
    from neocloud.fleet import presets

    return presets.build(name, **dict(params))


def default_power(model: str, pue: float) -> Power:
    """Per-GPU draw from reference.py: active = node maximum / GPUs per node (CPU share included), idle =
    the reference's idle share of it."""
    from neocloud.kernel.gpus import gpu_model

    gpu = gpu_model(model)
    active = gpu.node_max_kw * 1000 / gpu.gpus_per_node
    return Power(round(active * ref.SIM_IDLE_SHARE_OF_MAX_POWER, 1), round(active, 1), pue)

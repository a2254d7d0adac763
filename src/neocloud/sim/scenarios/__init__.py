"""Scenarios: what a simulation runs — a fleet, its tenants' demand, prices, failures, spares, power.

A scenario is a YAML (or JSON) mapping; `load(path)` validates it and every error names the field
(`InvalidInput` with `details["field"]`, e.g. "demand.on_demand.share"). `preset(name)` returns the
built-in ones: `tiny` (one NVL72 rack, for tests), `gb200-superpod` and `campus-1gw`.

    name: gb200-superpod
    start: 2026-01-05T00:00:00Z
    days: 30
    engine: exact             # exact: the control plane's own use cases; pooled: the stated aggregation
    fleet: {preset: gb200-superpod, params: {sus: 4}}      # or {file: fleet.yaml}
    reserved:                 # contracts: a share of the fleet's GPUs (or gpus), whole NVL72 racks
      - {tenant: lab-a, share: 0.2, term_days: 365, start_day: 0, shape: whole-nvl72}
    demand:
      source: philly          # or openb (with workload: default|cpu050|gpushare40|gpuspec10), synthetic
      on_demand: {share: 0.25, max_wait_hours: 1}
      spot: {share: 0.15}
    failures: {per_gpu_day: 4.7e-4, spare_share: 0.05, swap_minutes: 5}   # repair_hours: the injector's
    power: {idle_w_per_gpu: 417, active_w_per_gpu: 1668, pue: 1.2}
    sla: {target: 0.999, tiers: [[0.999, 0.10], [0.95, 0.25]]}
    metering_hours: 24      # billing's ledger grid is daily

Every default comes from `neocloud.kernel.reference` (REFERENCE.md).
"""

from neocloud.sim.scenarios.model import (
    DEFAULT_START,
    ENGINES,
    SHAPES,
    SOURCES,
    TRACE_SOURCES,
    Contract,
    Failures,
    ListedFailure,
    ListedJob,
    Power,
    Scenario,
    Sla,
    Stream,
    default_power,
)
from neocloud.sim.scenarios.parse import fleet_gpus, load, parse, shape_unit
from neocloud.sim.scenarios.presets import PRESETS, preset, resolve

__all__ = [
    "DEFAULT_START",
    "ENGINES",
    "PRESETS",
    "SHAPES",
    "SOURCES",
    "TRACE_SOURCES",
    "Contract",
    "Failures",
    "ListedFailure",
    "ListedJob",
    "Power",
    "Scenario",
    "Sla",
    "Stream",
    "default_power",
    "fleet_gpus",
    "load",
    "parse",
    "preset",
    "resolve",
    "shape_unit",
]

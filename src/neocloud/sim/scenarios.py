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
      source: philly          # or synthetic (Poisson arrivals, exponential durations)
      on_demand: {share: 0.25, max_wait_hours: 1}
      spot: {share: 0.15}
    failures: {per_gpu_day: 4.7e-4, spare_share: 0.05, swap_minutes: 5}   # repair_hours: the injector's
    power: {idle_w_per_gpu: 417, active_w_per_gpu: 1668, pue: 1.2}
    sla: {target: 0.999, tiers: [[0.999, 0.10], [0.95, 0.25]]}
    metering_hours: 24      # billing's ledger grid is daily

Every default comes from `neocloud.kernel.reference` (REFERENCE.md).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput

ENGINES = ("exact", "pooled")
SOURCES = ("philly", "synthetic", "list")
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
        return self if days is None else replace(self, days=_positive(days, "days"))

    def with_engine(self, engine: str) -> Scenario:
        return replace(self, engine=_choice(engine, ENGINES, "engine"))

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


# Validation -----------------------------------------------------------------------------------------


def _bad(path: str, message: str, value: Any = None) -> InvalidInput:
    details: dict[str, Any] = {"field": path}
    if value is not None:
        details["value"] = value if isinstance(value, int | float | str | bool) else repr(value)
    return InvalidInput(f"scenario field {path}: {message}", details=details)


def _mapping(raw: Any, path: str, known: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise _bad(path or "(top level)", f"must be a mapping, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise _bad(where, f"unknown field; known: {', '.join(known)}")
    return dict(raw)


def _number(raw: Any, path: str, lo: float, hi: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or math.isnan(raw):
        raise _bad(path, f"must be a number, got {raw!r}", raw)
    if not lo <= raw <= hi:
        raise _bad(path, f"must be in {lo}..{hi}, got {raw}", raw)
    return float(raw)


def _positive(raw: Any, path: str, hi: float = 3650.0) -> float:
    value = _number(raw, path, 0.0, hi)
    if value <= 0:
        raise _bad(path, f"must be > 0, got {raw}", raw)
    return value


def _choice(raw: Any, known: tuple[str, ...], path: str) -> str:
    if raw not in known:
        raise _bad(path, f"must be one of {', '.join(known)}, got {raw!r}", raw)
    return str(raw)


def _text(raw: Any, path: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _bad(path, f"must be a non-empty string, got {raw!r}", raw)
    return raw.strip()


def _stream(raw: Any, path: str) -> Stream:
    m = _mapping(raw, path, ("share", "max_wait_hours", "mean_nodes", "mean_hours", "tenants"))
    if "share" not in m:
        raise _bad(f"{path}.share", "is required")
    tenants = m.get("tenants", 8)
    if isinstance(tenants, bool) or not isinstance(tenants, int) or not 1 <= tenants <= 1000:
        raise _bad(f"{path}.tenants", f"must be a whole number in 1..1000, got {tenants!r}", tenants)
    return Stream(
        _number(m["share"], f"{path}.share", 0.0, 1.0),
        _number(m.get("max_wait_hours", 1.0), f"{path}.max_wait_hours", 0.0, 24 * 30),
        _positive(m.get("mean_nodes", 2.0), f"{path}.mean_nodes", 10_000),
        _positive(m.get("mean_hours", 8.0), f"{path}.mean_hours", 24 * 365),
        tenants,
    )


def _start(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise _bad("start", f"must be an ISO 8601 instant, got {raw!r}", raw) from None
    else:
        raise _bad("start", f"must be an ISO 8601 instant, got {raw!r}", raw)
    if value.tzinfo is None or value.utcoffset() != UTC.utcoffset(None):
        raise _bad("start", "must be in UTC (end with Z or +00:00)", str(raw))
    return value.astimezone(UTC)


_TOP = (
    "name",
    "start",
    "days",
    "engine",
    "fleet",
    "reserved",
    "demand",
    "failures",
    "power",
    "sla",
    "metering_hours",
    "sample_hours",
    "currency",
)


def parse(raw: Any, *, base: Path | None = None) -> Scenario:
    """A validated Scenario from a parsed YAML/JSON mapping; InvalidInput naming the field otherwise.
    Relative file paths (fleet file, trace) are taken from `base`."""
    from neocloud.fleet import presets
    from neocloud.kernel.gpus import CATALOG

    top = _mapping(raw, "", _TOP)
    name = _text(top.get("name", "scenario"), "name")
    fleet = _mapping(top.get("fleet"), "fleet", ("preset", "params", "file", "model"))
    preset_name: str | None = None
    file: Path | None = None
    params: dict[str, Any] = {}
    if ("preset" in fleet) == ("file" in fleet):
        raise _bad("fleet", "needs exactly one of preset or file")
    if "preset" in fleet:
        preset_name = _choice(fleet["preset"], tuple(presets.PRESETS), "fleet.preset")
        params = _mapping(
            fleet.get("params", {}),
            "fleet.params",
            tuple(p.name for p in presets.PRESETS[preset_name].params),
        )
        for key, value in params.items():
            param = next(p for p in presets.PRESETS[preset_name].params if p.name == key)
            try:
                param.coerce(preset_name, value)
            except InvalidInput as err:
                raise _bad(f"fleet.params.{key}", err.message, value) from None
    else:
        file = Path(_text(fleet["file"], "fleet.file"))
        file = (base / file) if base is not None and not file.is_absolute() else file
        if not file.exists():
            raise _bad("fleet.file", f"no such file: {file}", str(file))
    model = _choice(fleet.get("model", "GB200"), tuple(CATALOG), "fleet.model")
    scenario = Scenario(name, preset_name, params, file, model)
    updates: dict[str, Any] = {}
    if "start" in top:
        updates["start"] = _start(top["start"])
    if "days" in top:
        updates["days"] = _positive(top["days"], "days")
    if "engine" in top:
        updates["engine"] = _choice(top["engine"], ENGINES, "engine")
    for key in ("metering_hours", "sample_hours"):
        if key in top:
            updates[key] = _positive(top[key], key, 24 * 31)
    if "currency" in top:
        updates["currency"] = _choice(top["currency"], ("USD",), "currency")
    updates["reserved"] = _contracts(top.get("reserved", []), scenario)
    demand = _mapping(top.get("demand", {}), "demand", ("source", "trace", "on_demand", "spot", "jobs"))
    if "jobs" in demand:
        updates["job_list"] = _jobs(demand["jobs"])
    if "source" in demand:
        updates["source"] = _choice(demand["source"], SOURCES, "demand.source")
    if "trace" in demand:
        trace = Path(_text(demand["trace"], "demand.trace"))
        updates["trace_path"] = (base / trace) if base is not None and not trace.is_absolute() else trace
    for key in ("on_demand", "spot"):
        if key in demand:
            updates[key] = _stream(demand[key], f"demand.{key}")
    if "failures" in top:
        f = _mapping(
            top["failures"],
            "failures",
            ("per_gpu_day", "repair_hours", "spare_share", "swap_minutes", "schedule"),
        )
        if "schedule" in f:
            updates["failure_list"] = _failure_list(f["schedule"])
        d = Failures()
        updates["failures"] = Failures(
            _number(f.get("per_gpu_day", d.per_gpu_day), "failures.per_gpu_day", 0.0, 1.0),
            None
            if f.get("repair_hours") is None
            else _positive(f["repair_hours"], "failures.repair_hours", 24 * 365),
            _number(f.get("spare_share", d.spare_share), "failures.spare_share", 0.0, 0.5),
            _number(f.get("swap_minutes", d.swap_minutes), "failures.swap_minutes", 0.0, 24 * 60),
        )
    if "power" in top:
        p = _mapping(top["power"], "power", ("idle_w_per_gpu", "active_w_per_gpu", "pue"))
        dp = default_power(model, float(params.get("pue", ref.PUE_MODERN_AI_HALL)))
        idle = _number(p.get("idle_w_per_gpu", dp.idle_w_per_gpu), "power.idle_w_per_gpu", 0.0, 20_000)
        active = _number(
            p.get("active_w_per_gpu", dp.active_w_per_gpu), "power.active_w_per_gpu", 0.0, 20_000
        )
        if idle > active:
            raise _bad("power.idle_w_per_gpu", f"must not exceed active_w_per_gpu ({active})", idle)
        updates["power"] = Power(idle, active, _number(p.get("pue", dp.pue), "power.pue", 1.0, 3.0))
    if "sla" in top:
        updates["sla"] = _sla(top["sla"])
    scenario = replace(scenario, **updates)
    if (
        scenario.source == "list"
        and not scenario.job_list
        and (scenario.on_demand.share or scenario.spot.share)
    ):
        raise _bad("demand.jobs", "is required with source list")
    if scenario.failure_list:
        ids = {n.id for n in scenario.fleet().nodes}
        for i, lf in enumerate(scenario.failure_list):
            if lf.node not in ids:
                raise _bad(f"failures.schedule[{i}].node", f"no node {lf.node!r} in the fleet", lf.node)
    _check_shares(scenario)
    return scenario


def _contracts(raw: Any, scenario: Scenario) -> tuple[Contract, ...]:
    if not isinstance(raw, list):
        raise _bad("reserved", f"must be a list of contracts, got {type(raw).__name__}")
    total = fleet_gpus(scenario)
    out = []
    for i, item in enumerate(raw):
        path = f"reserved[{i}]"
        c = _mapping(item, path, ("tenant", "share", "gpus", "term_days", "start_day", "shape", "count"))
        if ("share" in c) == ("gpus" in c):
            raise _bad(path, "needs exactly one of share or gpus")
        shape = _choice(c.get("shape", "whole-nvl72"), SHAPES, f"{path}.shape")
        unit = shape_unit(scenario.model, shape)
        count = c.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise _bad(f"{path}.count", f"must be a whole number in 1..1000, got {count!r}", count)
        if "gpus" in c:
            gpus = c["gpus"]
            if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 1:
                raise _bad(f"{path}.gpus", f"must be a whole number >= 1, got {gpus!r}", gpus)
            if gpus % unit:
                raise _bad(f"{path}.gpus", f"must be a multiple of {unit} for shape {shape}", gpus)
        else:
            share = _number(c["share"], f"{path}.share", 0.0, 1.0)
            gpus = int(share * total / count // unit) * unit
            if gpus < unit:
                raise _bad(
                    f"{path}.share", f"is less than one {shape} unit ({unit} GPUs) of the fleet", share
                )
        term = _positive(c.get("term_days", 365), f"{path}.term_days", 366 * 3)
        start_day = _number(c.get("start_day", 0), f"{path}.start_day", 0.0, 366)
        tenant = _text(c.get("tenant", f"lab-{i + 1}"), f"{path}.tenant")
        for k in range(count):
            out.append(Contract(tenant if count == 1 else f"{tenant}-{k + 1}", gpus, term, start_day, shape))
    return tuple(out)


def _jobs(raw: Any) -> tuple[ListedJob, ...]:
    if not isinstance(raw, list):
        raise _bad("demand.jobs", "must be a list of jobs")
    out = []
    for i, item in enumerate(raw):
        path = f"demand.jobs[{i}]"
        j = _mapping(item, path, ("product", "at_hours", "nodes", "hours", "tenant"))
        for key in ("product", "at_hours", "nodes", "hours"):
            if key not in j:
                raise _bad(f"{path}.{key}", "is required")
        nodes = j["nodes"]
        if isinstance(nodes, bool) or not isinstance(nodes, int) or not 1 <= nodes <= 10_000:
            raise _bad(f"{path}.nodes", f"must be a whole number in 1..10000, got {nodes!r}", nodes)
        tenant = j.get("tenant", 0)
        if isinstance(tenant, bool) or not isinstance(tenant, int) or tenant < 0:
            raise _bad(f"{path}.tenant", f"must be a whole number >= 0, got {tenant!r}", tenant)
        out.append(
            ListedJob(
                _choice(j["product"], ("on-demand", "spot"), f"{path}.product"),
                _number(j["at_hours"], f"{path}.at_hours", 0.0, 24 * 3650),
                nodes,
                _positive(j["hours"], f"{path}.hours", 24 * 3650),
                tenant,
            )
        )
    return tuple(sorted(out, key=lambda x: x.at_hours))


def _failure_list(raw: Any) -> tuple[ListedFailure, ...]:
    if not isinstance(raw, list):
        raise _bad("failures.schedule", "must be a list of failures")
    out = []
    for i, item in enumerate(raw):
        path = f"failures.schedule[{i}]"
        f = _mapping(item, path, ("at_hours", "node", "repair_hours"))
        for key in ("at_hours", "node", "repair_hours"):
            if key not in f:
                raise _bad(f"{path}.{key}", "is required")
        out.append(
            ListedFailure(
                _number(f["at_hours"], f"{path}.at_hours", 0.0, 24 * 3650),
                _text(f["node"], f"{path}.node"),
                _positive(f["repair_hours"], f"{path}.repair_hours", 24 * 3650),
            )
        )
    return tuple(sorted(out, key=lambda x: x.at_hours))


def _sla(raw: Any) -> Sla:
    s = _mapping(raw, "sla", ("target", "tiers"))
    target = _number(s.get("target", ref.SLA_TARGET), "sla.target", 0.0, 1.0)
    tiers_raw = s.get("tiers", [list(t) for t in ref.SLA_CREDIT_TIERS])
    if not isinstance(tiers_raw, list):
        raise _bad("sla.tiers", "must be a list of [availability_below, credit_share]")
    tiers = []
    for i, t in enumerate(tiers_raw):
        if not isinstance(t, list | tuple) or len(t) != 2:
            raise _bad(f"sla.tiers[{i}]", "must be [availability_below, credit_share]", repr(t))
        tiers.append(
            (
                _number(t[0], f"sla.tiers[{i}][0]", 0.0, 1.0),
                Decimal(str(_number(t[1], f"sla.tiers[{i}][1]", 0.0, 1.0))),
            )
        )
    return Sla(target, tuple(sorted(tiers, reverse=True)))


def shape_unit(model: str, shape: str) -> int:
    from neocloud.kernel.gpus import gpu_model

    gpu = gpu_model(model)
    return gpu.nvlink_domain if shape == "whole-nvl72" else gpu.gpus_per_node


def fleet_gpus(scenario: Scenario) -> int:
    """GPUs of the scenario's fleet, computed without building it for presets of known make-up."""
    return sum(n.gpus for n in scenario.fleet().nodes if n.model == scenario.model)


def _check_shares(s: Scenario) -> None:
    total = fleet_gpus(s)
    if total == 0:
        raise _bad("fleet", f"has no {s.model} GPUs")
    reserved = sum(c.gpus for c in s.reserved)
    spares = s.failures.spare_share * total
    if reserved + spares + (s.on_demand.share + s.spot.share) * total > total * 1.000001:
        raise _bad(
            "demand",
            f"reserved ({reserved} GPUs), spares ({spares:.0f}) and the on-demand and spot shares "
            f"({s.on_demand.share + s.spot.share:.3f} of {total}) exceed the fleet",
        )


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file (YAML or JSON)."""
    import yaml

    p = Path(path)
    if not p.exists():
        raise InvalidInput(f"scenario file not found: {p}", details={"field": "path", "value": str(p)})
    text = p.read_text()
    try:
        raw = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise InvalidInput(
            f"scenario file {p} is not valid YAML/JSON: {err}", details={"field": "(file)"}
        ) from None
    return parse(raw, base=p.parent)


PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "name": "tiny",
        "days": 2,
        "fleet": {"preset": "demo", "params": {"gb200_racks": 2, "h100_sus": 0}},
        "reserved": [{"tenant": "lab-a", "gpus": 72, "term_days": 30}],
        "demand": {
            "source": "synthetic",
            "on_demand": {"share": 0.25, "mean_nodes": 2, "mean_hours": 6},
            "spot": {"share": 0.2, "mean_nodes": 2, "mean_hours": 4},
        },
        "failures": {"per_gpu_day": 0.004, "repair_hours": 12, "spare_share": 0.0},
    },
    "gb200-superpod": {
        "name": "gb200-superpod",
        "days": 30,
        "fleet": {"preset": "gb200-superpod", "params": {"sus": 4}},
        "reserved": [
            {"tenant": "lab-a", "share": 0.25, "term_days": 365},
            {"tenant": "lab-b", "share": 0.125, "term_days": 180},
        ],
        "demand": {
            "source": "philly",
            "on_demand": {"share": 0.35, "max_wait_hours": 1},
            "spot": {"share": 0.2, "max_wait_hours": 0},
        },
        "failures": {"spare_share": 0.05},
    },
    "campus-1gw": {
        "name": "campus-1gw",
        "days": 365,
        "engine": "pooled",
        "fleet": {"preset": "campus-1gw"},
        "reserved": [{"tenant": "lab", "share": 0.6, "count": 3, "term_days": 1096}],
        "demand": {
            "source": "philly",
            "on_demand": {"share": 0.2, "max_wait_hours": 1},
            "spot": {"share": 0.15, "max_wait_hours": 0},
        },
        "failures": {"spare_share": 0.05},
    },
}


def preset(name: str) -> Scenario:
    """A built-in scenario: tiny, gb200-superpod, campus-1gw (see PRESETS)."""
    if name not in PRESETS:
        raise InvalidInput(
            f"unknown scenario preset {name!r}; known: {', '.join(PRESETS)}",
            details={"field": "scenario", "known": list(PRESETS)},
        )
    return parse(PRESETS[name])


def resolve(scenario: Scenario | str | Path) -> Scenario:
    """A Scenario as given, a preset's name, or a scenario file's path."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str) and scenario in PRESETS:
        return preset(scenario)
    return load(scenario)

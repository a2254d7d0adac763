"""`parse` and `load`: a scenario mapping (YAML or JSON) checked field by field into a Scenario."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput
from neocloud.sim.scenarios.fields import bad, choice, mapping, number, positive, text
from neocloud.sim.scenarios.model import (
    ENGINES,
    SHAPES,
    SOURCES,
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


def _stream(raw: Any, path: str) -> Stream:
    m = mapping(raw, path, ("share", "max_wait_hours", "mean_nodes", "mean_hours", "tenants"))
    if "share" not in m:
        raise bad(f"{path}.share", "is required")
    tenants = m.get("tenants", 8)
    if isinstance(tenants, bool) or not isinstance(tenants, int) or not 1 <= tenants <= 1000:
        raise bad(f"{path}.tenants", f"must be a whole number in 1..1000, got {tenants!r}", tenants)
    return Stream(
        number(m["share"], f"{path}.share", 0.0, 1.0),
        number(m.get("max_wait_hours", 1.0), f"{path}.max_wait_hours", 0.0, 24 * 30),
        positive(m.get("mean_nodes", 2.0), f"{path}.mean_nodes", 10_000),
        positive(m.get("mean_hours", 8.0), f"{path}.mean_hours", 24 * 365),
        tenants,
    )


def _start(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise bad("start", f"must be an ISO 8601 instant, got {raw!r}", raw) from None
    else:
        raise bad("start", f"must be an ISO 8601 instant, got {raw!r}", raw)
    if value.tzinfo is None or value.utcoffset() != UTC.utcoffset(None):
        raise bad("start", "must be in UTC (end with Z or +00:00)", str(raw))
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

    top = mapping(raw, "", _TOP)
    name = text(top.get("name", "scenario"), "name")
    fleet = mapping(top.get("fleet"), "fleet", ("preset", "params", "file", "model"))
    preset_name: str | None = None
    file: Path | None = None
    params: dict[str, Any] = {}
    if ("preset" in fleet) == ("file" in fleet):
        raise bad("fleet", "needs exactly one of preset or file")
    if "preset" in fleet:
        preset_name = choice(fleet["preset"], tuple(presets.PRESETS), "fleet.preset")
        params = mapping(
            fleet.get("params", {}),
            "fleet.params",
            tuple(p.name for p in presets.PRESETS[preset_name].params),
        )
        for key, value in params.items():
            param = next(p for p in presets.PRESETS[preset_name].params if p.name == key)
            try:
                param.coerce(preset_name, value)
            except InvalidInput as err:
                raise bad(f"fleet.params.{key}", err.message, value) from None
    else:
        file = Path(text(fleet["file"], "fleet.file"))
        file = (base / file) if base is not None and not file.is_absolute() else file
        if not file.exists():
            raise bad("fleet.file", f"no such file: {file}", str(file))
    model = choice(fleet.get("model", "GB200"), tuple(CATALOG), "fleet.model")
    scenario = Scenario(name, preset_name, params, file, model)
    updates: dict[str, Any] = {}
    if "start" in top:
        updates["start"] = _start(top["start"])
    if "days" in top:
        updates["days"] = positive(top["days"], "days")
    if "engine" in top:
        updates["engine"] = choice(top["engine"], ENGINES, "engine")
    for key in ("metering_hours", "sample_hours"):
        if key in top:
            updates[key] = positive(top[key], key, 24 * 31)
    if "currency" in top:
        updates["currency"] = choice(top["currency"], ("USD",), "currency")
    updates["reserved"] = _contracts(top.get("reserved", []), scenario)
    demand = mapping(
        top.get("demand", {}), "demand", ("source", "trace", "workload", "on_demand", "spot", "jobs")
    )
    if "jobs" in demand:
        updates["job_list"] = _jobs(demand["jobs"])
    if "source" in demand:
        updates["source"] = choice(demand["source"], SOURCES, "demand.source")
    if "trace" in demand:
        trace = Path(text(demand["trace"], "demand.trace"))
        updates["trace_path"] = (base / trace) if base is not None and not trace.is_absolute() else trace
    if "workload" in demand:
        updates["workload"] = _workload(demand["workload"], updates.get("source", scenario.source))
    for key in ("on_demand", "spot"):
        if key in demand:
            updates[key] = _stream(demand[key], f"demand.{key}")
    if "failures" in top:
        f = mapping(
            top["failures"],
            "failures",
            ("per_gpu_day", "repair_hours", "spare_share", "swap_minutes", "schedule"),
        )
        if "schedule" in f:
            updates["failure_list"] = _failure_list(f["schedule"])
        d = Failures()
        updates["failures"] = Failures(
            number(f.get("per_gpu_day", d.per_gpu_day), "failures.per_gpu_day", 0.0, 1.0),
            None
            if f.get("repair_hours") is None
            else positive(f["repair_hours"], "failures.repair_hours", 24 * 365),
            number(f.get("spare_share", d.spare_share), "failures.spare_share", 0.0, 0.5),
            number(f.get("swap_minutes", d.swap_minutes), "failures.swap_minutes", 0.0, 24 * 60),
        )
    if "power" in top:
        p = mapping(top["power"], "power", ("idle_w_per_gpu", "active_w_per_gpu", "pue"))
        dp = default_power(model, float(params.get("pue", ref.PUE_MODERN_AI_HALL)))
        idle = number(p.get("idle_w_per_gpu", dp.idle_w_per_gpu), "power.idle_w_per_gpu", 0.0, 20_000)
        active = number(p.get("active_w_per_gpu", dp.active_w_per_gpu), "power.active_w_per_gpu", 0.0, 20_000)
        if idle > active:
            raise bad("power.idle_w_per_gpu", f"must not exceed active_w_per_gpu ({active})", idle)
        updates["power"] = Power(idle, active, number(p.get("pue", dp.pue), "power.pue", 1.0, 3.0))
    if "sla" in top:
        updates["sla"] = _sla(top["sla"])
    scenario = replace(scenario, **updates)
    if (
        scenario.source == "list"
        and not scenario.job_list
        and (scenario.on_demand.share or scenario.spot.share)
    ):
        raise bad("demand.jobs", "is required with source list")
    if scenario.failure_list:
        ids = {n.id for n in scenario.fleet().nodes}
        for i, lf in enumerate(scenario.failure_list):
            if lf.node not in ids:
                raise bad(f"failures.schedule[{i}].node", f"no node {lf.node!r} in the fleet", lf.node)
    if scenario.source == "openb":
        from neocloud.sim.openb_demand import pod_list

        pod_list(scenario.trace_path, scenario.workload)  # InvalidInput naming demand.trace or .workload
    _check_shares(scenario)
    return scenario


def _workload(raw: Any, source: str) -> str:
    name = text(raw, "demand.workload")
    if source != "openb":
        raise bad("demand.workload", f"is for source openb (the pod list to replay), not {source}", name)
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise bad("demand.workload", f"must be a pod list's name (default, cpu050, ...), got {name!r}", name)
    return name


def _contracts(raw: Any, scenario: Scenario) -> tuple[Contract, ...]:
    if not isinstance(raw, list):
        raise bad("reserved", f"must be a list of contracts, got {type(raw).__name__}")
    total = fleet_gpus(scenario)
    out = []
    for i, item in enumerate(raw):
        path = f"reserved[{i}]"
        c = mapping(item, path, ("tenant", "share", "gpus", "term_days", "start_day", "shape", "count"))
        if ("share" in c) == ("gpus" in c):
            raise bad(path, "needs exactly one of share or gpus")
        shape = choice(c.get("shape", "whole-nvl72"), SHAPES, f"{path}.shape")
        unit = shape_unit(scenario.model, shape)
        count = c.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise bad(f"{path}.count", f"must be a whole number in 1..1000, got {count!r}", count)
        if "gpus" in c:
            gpus = c["gpus"]
            if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 1:
                raise bad(f"{path}.gpus", f"must be a whole number >= 1, got {gpus!r}", gpus)
            if gpus % unit:
                raise bad(f"{path}.gpus", f"must be a multiple of {unit} for shape {shape}", gpus)
        else:
            share = number(c["share"], f"{path}.share", 0.0, 1.0)
            gpus = int(share * total / count // unit) * unit
            if gpus < unit:
                raise bad(f"{path}.share", f"is less than one {shape} unit ({unit} GPUs) of the fleet", share)
        term = positive(c.get("term_days", 365), f"{path}.term_days", 366 * 3)
        start_day = number(c.get("start_day", 0), f"{path}.start_day", 0.0, 366)
        tenant = text(c.get("tenant", f"lab-{i + 1}"), f"{path}.tenant")
        for k in range(count):
            out.append(Contract(tenant if count == 1 else f"{tenant}-{k + 1}", gpus, term, start_day, shape))
    return tuple(out)


def _jobs(raw: Any) -> tuple[ListedJob, ...]:
    if not isinstance(raw, list):
        raise bad("demand.jobs", "must be a list of jobs")
    out = []
    for i, item in enumerate(raw):
        path = f"demand.jobs[{i}]"
        j = mapping(item, path, ("product", "at_hours", "nodes", "hours", "tenant"))
        for key in ("product", "at_hours", "nodes", "hours"):
            if key not in j:
                raise bad(f"{path}.{key}", "is required")
        nodes = j["nodes"]
        if isinstance(nodes, bool) or not isinstance(nodes, int) or not 1 <= nodes <= 10_000:
            raise bad(f"{path}.nodes", f"must be a whole number in 1..10000, got {nodes!r}", nodes)
        tenant = j.get("tenant", 0)
        if isinstance(tenant, bool) or not isinstance(tenant, int) or tenant < 0:
            raise bad(f"{path}.tenant", f"must be a whole number >= 0, got {tenant!r}", tenant)
        out.append(
            ListedJob(
                choice(j["product"], ("on-demand", "spot"), f"{path}.product"),
                number(j["at_hours"], f"{path}.at_hours", 0.0, 24 * 3650),
                nodes,
                positive(j["hours"], f"{path}.hours", 24 * 3650),
                tenant,
            )
        )
    return tuple(sorted(out, key=lambda x: x.at_hours))


def _failure_list(raw: Any) -> tuple[ListedFailure, ...]:
    if not isinstance(raw, list):
        raise bad("failures.schedule", "must be a list of failures")
    out = []
    for i, item in enumerate(raw):
        path = f"failures.schedule[{i}]"
        f = mapping(item, path, ("at_hours", "node", "repair_hours"))
        for key in ("at_hours", "node", "repair_hours"):
            if key not in f:
                raise bad(f"{path}.{key}", "is required")
        out.append(
            ListedFailure(
                number(f["at_hours"], f"{path}.at_hours", 0.0, 24 * 3650),
                text(f["node"], f"{path}.node"),
                positive(f["repair_hours"], f"{path}.repair_hours", 24 * 3650),
            )
        )
    return tuple(sorted(out, key=lambda x: x.at_hours))


def _sla(raw: Any) -> Sla:
    s = mapping(raw, "sla", ("target", "tiers"))
    target = number(s.get("target", ref.SLA_TARGET), "sla.target", 0.0, 1.0)
    tiers_raw = s.get("tiers", [list(t) for t in ref.SLA_CREDIT_TIERS])
    if not isinstance(tiers_raw, list):
        raise bad("sla.tiers", "must be a list of [availability_below, credit_share]")
    tiers = []
    for i, t in enumerate(tiers_raw):
        if not isinstance(t, list | tuple) or len(t) != 2:
            raise bad(f"sla.tiers[{i}]", "must be [availability_below, credit_share]", repr(t))
        tiers.append(
            (
                number(t[0], f"sla.tiers[{i}][0]", 0.0, 1.0),
                Decimal(str(number(t[1], f"sla.tiers[{i}][1]", 0.0, 1.0))),
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
        raise bad("fleet", f"has no {s.model} GPUs")
    reserved = sum(c.gpus for c in s.reserved)
    spares = s.failures.spare_share * total
    if reserved + spares + (s.on_demand.share + s.spot.share) * total > total * 1.000001:
        raise bad(
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

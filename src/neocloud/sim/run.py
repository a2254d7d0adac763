"""`run_scenario`: one simulation run, by the scenario's engine, summarised as a SimResult."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from neocloud.kernel.errors import InvalidInput
from neocloud.sim.model import PRODUCTS, Model, SimTotals
from neocloud.sim.result import SimResult
from neocloud.sim.scenarios import Scenario, fleet_gpus, resolve

EXACT_MAX_GPUS = 20_000


def run_scenario(
    scenario: Scenario | str | Path,
    *,
    days: float | None = None,
    seed: int = 0,
    engine: str | None = None,
    loop: str | None = None,
    progress: Callable[[float], None] | None = None,
    trace: Any = None,
) -> SimResult:
    """Simulate `scenario` (a Scenario, a preset name or a scenario file) for `days` (default: the
    scenario's) with `seed`. `engine` overrides the scenario's ("exact": the control plane's own use
    cases on virtual time; "pooled": the stated aggregation); `loop` picks the pooled engine's event loop:
    a bare heap ("heap", its default) or SimPy ("simpy"); the exact engine always runs on SimPy. The
    pooled engine's default is the heap because SimPy's own machinery was its largest single cost on the
    campus year (a third of its profile; the same run, event for event, on both: `neocloud bench sim`
    times each); `progress` is called with the simulated fraction done."""
    wall, cpu = time.perf_counter(), time.process_time()
    s = resolve(scenario).with_days(days)
    if engine is not None:
        s = s.with_engine(engine)
    if s.engine == "exact" and fleet_gpus(s) > EXACT_MAX_GPUS:
        raise InvalidInput(
            f"engine: the exact engine runs the control plane's own use cases and is meant for fleets up to "
            f"{EXACT_MAX_GPUS:,} GPUs (a SuperPOD); this one has {fleet_gpus(s):,}: use the pooled engine",
            details={"field": "engine", "gpus": fleet_gpus(s), "max": EXACT_MAX_GPUS},
        )
    model = Model(s, seed, trace=trace)
    if s.engine == "pooled":
        from neocloud.sim.pooled import PooledEngine

        totals = PooledEngine(model, loop=loop or "heap", progress=progress).run()
    else:
        from neocloud.sim.exact import ExactEngine

        totals = ExactEngine(model, progress=progress).run()
    engine_wall = totals.wall_seconds
    totals.wall_seconds = time.perf_counter() - wall  # set-up (fleet, trace) included
    result = summarise(model, totals)
    cpu_seconds = time.process_time() - cpu  # beside wall time: the machine may be shared
    timings = {"engine_wall_seconds": engine_wall, "cpu_seconds": cpu_seconds}
    if totals.loop_seconds:  # the exact engine times its event loop alone too
        timings |= {"loop_seconds": totals.loop_seconds, "loop_cpu_seconds": totals.loop_cpu_seconds}
    return replace(result, extra={**result.extra, **timings})


def summarise(model: Model, t: SimTotals) -> SimResult:
    s = model.scenario
    lv = t.levels
    assert lv is not None
    denom = model.gpus * model.horizon
    by_product = {p: lv.alloc_s[i] / denom for i, p in enumerate(PRODUCTS)}
    p = model.power
    alloc_s = sum(lv.alloc_s)
    energy_mwh = (alloc_s * p.active_w_per_gpu + (denom - alloc_s) * p.idle_w_per_gpu) * p.pue / 3.6e9
    extra: dict[str, float] = {
        "committed_fraction": lv.committed_s / denom,
        "unhealthy_fraction": lv.unhealthy_s / denom,
        "idle_fraction": lv.idle_s / denom,
        "admissions": t.admissions,
        "failures": t.failures,
        "repairs": t.repairs,
        "metering_passes": t.metering_passes,
    }
    for i, name in enumerate(PRODUCTS[1:], start=1):
        extra[f"{name}_refused"] = t.refused[i]
        extra[f"{name}_queued"] = t.queued[i]
        extra[f"{name}_mean_queue_delay_s"] = t.queue_delay_s[i] / t.queued[i] if t.queued[i] else 0.0
        extra[f"{name}_preempted"] = t.preempted[i]
        extra[f"{name}_interrupted_by_failure"] = t.interrupted[i]
        extra[f"{name}_completed"] = t.completed[i]
    for plan in model.plans:
        extra[f"{plan.product}_{s.source}_factor"] = plan.factor  # philly_factor, openb_factor
        extra[f"{plan.product}_{s.source}_peak_gpus"] = plan.peak_gpus
    return SimResult(
        scenario=s.name,
        simulated_days=model.horizon / 86400,
        seed=model.seed,
        gpus=model.gpus,
        utilisation=alloc_s / denom,
        utilisation_by_product=by_product,
        healthy_fraction=1 - lv.unhealthy_s / denom,
        revenue_by_product={k: t.revenue.get(k, Decimal(0)) for k in PRODUCTS},
        sla_credits=t.credits,
        currency=s.currency,
        energy_mwh=energy_mwh,
        mean_power_mw=energy_mwh / (model.horizon / 3600) if model.horizon else 0.0,
        events=t.events,
        wall_seconds=t.wall_seconds,
        series=t.series,
        extra=extra,
    )

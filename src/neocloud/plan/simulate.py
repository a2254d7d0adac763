"""Where the planner's operations come from: one simulation run of a scenario (never a guess).

`simulate(target, days=, seed=)` resolves a scenario (a preset name or a file), runs the simulator and
returns `Operations` over the scenario's `Site`. `from_json` rebuilds them from a saved run (the JSON of
`SimResult.to_json`), so a long campus simulation is run once and planned many times.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from neocloud.fleet.summary import fleet_summary
from neocloud.kernel.errors import InvalidInput
from neocloud.plan.operations import Operations, Site
from neocloud.sim.result import SimResult


def site_of(scenario: Any, simulated_gpus: int) -> Site:
    """The simulated GPUs of `scenario`'s fleet and their share of its facility power and PUE."""
    summary = fleet_summary(scenario.fleet())
    if summary.gpus <= 0:
        raise InvalidInput("scenario: its fleet has no GPUs", details={"field": "fleet"})
    share = Decimal(simulated_gpus) / Decimal(summary.gpus)
    pue = Decimal(str(scenario.power_figures().pue))
    return Site(
        name=str(scenario.name),
        gpus_by_model={str(scenario.model): simulated_gpus},
        facility_mw=Decimal(str(summary.facility_power_mw)) * share,
        pue=pue,
    )


def resolve(target: str) -> Any:
    from neocloud.sim import scenarios

    return scenarios.resolve(target if not Path(target).suffix else Path(target))


def simulate(
    target: str, *, days: float | None = None, seed: int = 0, progress: Callable[[float], None] | None = None
) -> tuple[Operations, SimResult]:
    """Run scenario `target` (preset name or file) and read its operations (`progress` gets the
    simulated fraction done)."""
    from neocloud.sim import run_scenario

    scenario = resolve(target)
    result: SimResult = run_scenario(scenario, days=days, seed=seed, progress=progress)
    return Operations.from_simulation(result, site_of(scenario, result.gpus)), result


def result_from_json(data: dict[str, Any]) -> SimResult:
    """A SimResult from its `to_json()` form (money from decimal strings); InvalidInput names the field."""
    try:
        return SimResult(
            scenario=str(data["scenario"]),
            simulated_days=float(data["simulated_days"]),
            seed=int(data["seed"]),
            gpus=int(data["gpus"]),
            utilisation=float(data["utilisation"]),
            utilisation_by_product={str(k): float(v) for k, v in data["utilisation_by_product"].items()},
            healthy_fraction=float(data["healthy_fraction"]),
            revenue_by_product={str(k): Decimal(str(v)) for k, v in data["revenue_by_product"].items()},
            sla_credits=Decimal(str(data["sla_credits"])),
            currency=str(data["currency"]),
            energy_mwh=float(data["energy_mwh"]),
            mean_power_mw=float(data.get("mean_power_mw", 0.0)),
            events=int(data.get("events", 0)),
            wall_seconds=float(data.get("wall_seconds", 0.0)),
        )
    except KeyError as exc:
        raise InvalidInput(
            f"simulation result: missing field {exc.args[0]}", details={"field": exc.args[0]}
        ) from None
    except (TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise InvalidInput(f"simulation result: {exc}", details={"field": "simulation"}) from None


def from_saved(data: dict[str, Any], target: str) -> tuple[Operations, SimResult]:
    """Operations of a saved run of scenario `target` (whose fleet gives the site)."""
    result = result_from_json(data)
    return Operations.from_simulation(result, site_of(resolve(target), result.gpus)), result

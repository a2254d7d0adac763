"""What one simulation run answers: the public contract the planner (`neocloud plan`) builds on.

Fractions are of the fleet's GPU-seconds over the simulated horizon (`gpus × simulated_days × 86,400`);
money is `Decimal` in the catalog's `currency`, never a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

PRODUCTS = ("reserved", "on-demand", "spot")


@dataclass(frozen=True, slots=True)
class SimResult:
    """Totals of one run of `scenario` for `simulated_days` with `seed`.

    `utilisation` is allocated GPU-seconds / (gpus × horizon), 0–1; `utilisation_by_product` splits it by
    product ("reserved" | "on-demand" | "spot", each a fraction of the fleet's GPU-seconds, summing to
    `utilisation`); `healthy_fraction` is healthy GPU-seconds / (gpus × horizon). `revenue_by_product` is
    what was invoiced, `sla_credits` what was credited back, both in `currency`. `energy_mwh` is facility
    energy (IT draw × PUE), `mean_power_mw` its mean over the horizon. `events` counts control-plane state
    changes (admission, start, stop, failure, repair, preemption notice, metering pass); `wall_seconds`
    is how long the run took. `series` holds the sampled time series (name → list of floats, with
    "t_days" as abscissa) and `extra` further totals (queueing delay, refusals, preemptions, failures).
    """

    scenario: str
    simulated_days: float
    seed: int
    gpus: int
    utilisation: float
    utilisation_by_product: Mapping[str, float]
    healthy_fraction: float
    revenue_by_product: Mapping[str, Decimal]
    sla_credits: Decimal
    currency: str
    energy_mwh: float
    mean_power_mw: float
    events: int
    wall_seconds: float
    series: Mapping[str, list[float]] = field(default_factory=dict)
    extra: Mapping[str, float] = field(default_factory=dict)

    @property
    def revenue(self) -> Decimal:
        """All products' invoiced revenue (before SLA credits)."""
        return sum(self.revenue_by_product.values(), Decimal(0))

    @property
    def events_per_second(self) -> float:
        return self.events / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_json(self, *, with_series: bool = False) -> dict[str, Any]:
        """A JSON-ready dict: money as decimal strings, fractions as floats."""
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "simulated_days": self.simulated_days,
            "seed": self.seed,
            "gpus": self.gpus,
            "utilisation": self.utilisation,
            "utilisation_by_product": dict(self.utilisation_by_product),
            "healthy_fraction": self.healthy_fraction,
            "revenue_by_product": {k: str(v) for k, v in self.revenue_by_product.items()},
            "revenue": str(self.revenue),
            "sla_credits": str(self.sla_credits),
            "currency": self.currency,
            "energy_mwh": self.energy_mwh,
            "mean_power_mw": self.mean_power_mw,
            "events": self.events,
            "wall_seconds": self.wall_seconds,
            "events_per_second": self.events_per_second,
            "extra": dict(self.extra),
        }
        if with_series:
            out["series"] = {k: list(v) for k, v in self.series.items()}
        return out

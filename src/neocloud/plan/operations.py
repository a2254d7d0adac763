"""What the campus does in operation, as the simulation measured it: the planner's utilisation and mix.

`Operations.from_simulation(result, site)` reads a `SimResult` (never a guess): the sold share of the
fleet's GPU-hours by product, the realised price per sold GPU-hour of each product (invoiced revenue /
GPU-hours), SLA credits as a share of revenue, the healthy fraction and facility energy per GPU-hour.
The planner scales these to the build schedule's capacity; the levers (`with_utilisation`,
`with_price`, `with_reserved_share`, `with_failure_scale`) are the explicit overrides and sensitivities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from types import MappingProxyType

from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.money import check_currency, parse_decimal
from neocloud.sim.result import SimResult

HOURS_PER_DAY = Decimal(24)
ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Site:
    """The hardware a scenario's fleet amounts to: what capex buys and what power it takes."""

    name: str
    gpus_by_model: Mapping[str, int]
    facility_mw: Decimal
    pue: Decimal

    @property
    def gpus(self) -> int:
        return sum(self.gpus_by_model.values())


def _fraction(value: object, field: str) -> Decimal:
    number = parse_decimal(str(value) if isinstance(value, float) else value, field=field)
    if number > ONE:
        raise InvalidInput(f"{field}: {number} is more than 1", details={"field": field})
    return number


@dataclass(frozen=True, slots=True)
class Operations:
    """Steady-state operation of the whole fleet, per fleet GPU-hour.

    `utilisation_by_product` are fractions of the fleet's GPU-hours (summing to the utilisation);
    `price_by_product` is the realised price per sold GPU-hour in `currency`; `credit_share` the SLA
    credits as a fraction of revenue; `energy_mwh_per_gpu_hour` facility energy at the fleet's PUE.
    `source` says where the figures come from (a simulation run, or an override)."""

    site: Site
    utilisation_by_product: Mapping[str, Decimal]
    price_by_product: Mapping[str, Decimal]
    currency: str
    credit_share: Decimal
    healthy_fraction: Decimal
    energy_mwh_per_gpu_hour: Decimal
    source: str

    @staticmethod
    def from_simulation(result: SimResult, site: Site) -> Operations:
        """Operations measured by one simulation run of the whole fleet."""
        gpus, days = result.gpus, parse_decimal(str(result.simulated_days), field="simulation.simulated_days")
        if gpus <= 0 or days <= 0:
            raise InvalidInput(
                "simulation: no GPUs or no simulated time", details={"field": "simulation", "gpus": gpus}
            )
        fleet_hours = Decimal(gpus) * days * HOURS_PER_DAY
        use = {
            p: _fraction(str(u), f"simulation.utilisation_by_product.{p}")
            for p, u in result.utilisation_by_product.items()
        }
        prices = {}
        for product, share in use.items():
            earned = parse_decimal(
                str(result.revenue_by_product.get(product, ZERO)),
                field=f"simulation.revenue_by_product.{product}",
            )
            prices[product] = earned / (share * fleet_hours) if share > 0 else ZERO
        for product, earned in result.revenue_by_product.items():
            parse_decimal(str(earned), field=f"simulation.revenue_by_product.{product}")
        revenue = result.revenue
        return Operations(
            site=site,
            utilisation_by_product=MappingProxyType(use),
            price_by_product=MappingProxyType(prices),
            currency=check_currency(result.currency, field="simulation.currency"),
            credit_share=parse_decimal(str(result.sla_credits), field="simulation.sla_credits") / revenue
            if revenue > 0
            else ZERO,
            healthy_fraction=_fraction(str(result.healthy_fraction), "simulation.healthy_fraction"),
            energy_mwh_per_gpu_hour=parse_decimal(str(result.energy_mwh), field="simulation.energy_mwh")
            / fleet_hours,
            source=(f"simulation of {result.scenario}: {days} days, seed {result.seed}, {gpus:,} GPUs"),
        )

    @property
    def utilisation(self) -> Decimal:
        return sum(self.utilisation_by_product.values(), ZERO)

    @property
    def price(self) -> Decimal:
        """The average realised price per sold GPU-hour (0 when nothing is sold)."""
        sold = self.utilisation
        if sold == 0:
            return ZERO
        return (
            sum((u * self.price_by_product[p] for p, u in self.utilisation_by_product.items()), ZERO) / sold
        )

    @property
    def revenue_per_fleet_gpu_hour(self) -> Decimal:
        """What one GPU of the fleet earns per hour of the horizon, after SLA credits."""
        gross = sum((u * self.price_by_product[p] for p, u in self.utilisation_by_product.items()), ZERO)
        return gross * (ONE - self.credit_share)

    def reserved_share(self) -> Decimal:
        sold = self.utilisation
        return self.utilisation_by_product.get("reserved", ZERO) / sold if sold > 0 else ZERO

    def with_utilisation(self, value: object, *, source: str | None = None) -> Operations:
        """The same product mix scaled to `value` (a fraction 0–1) of the fleet's GPU-hours."""
        target = _fraction(value, "utilisation")
        sold = self.utilisation
        if sold == 0:
            raise InvalidInput(
                "utilisation: the simulation sold nothing, so there is no product mix to scale",
                details={"field": "utilisation"},
            )
        use = {p: u * target / sold for p, u in self.utilisation_by_product.items()}
        return replace(
            self,
            utilisation_by_product=MappingProxyType(use),
            source=f"{self.source}; {source or f'given: utilisation {value}'}",
        )

    def with_price(self, value: object, *, source: str | None = None) -> Operations:
        """Every product's price scaled so that the average realised price is `value` per GPU-hour."""
        target = parse_decimal(value, field="price")
        now = self.price
        if now == 0:
            raise InvalidInput(
                "price: the simulation earned nothing, so there is no price mix to scale",
                details={"field": "price"},
            )
        return self.with_price_scale(target / now, source=source or f"given: price {value}")

    def with_price_scale(self, factor: Decimal, *, source: str) -> Operations:
        prices = {p: v * factor for p, v in self.price_by_product.items()}
        return replace(self, price_by_product=MappingProxyType(prices), source=f"{self.source}; {source}")

    def with_reserved_share(self, value: object, *, source: str | None = None) -> Operations:
        """Shift sold GPU-hours between reserved and the other products (kept in their proportions),
        at the same utilisation: the contract mix."""
        share = _fraction(value, "reserved_share")
        sold = self.utilisation
        others = {p: u for p, u in self.utilisation_by_product.items() if p != "reserved"}
        rest = sum(others.values(), ZERO)
        if sold == 0 or self.price_by_product.get("reserved", ZERO) == 0 or rest == 0:
            raise InvalidInput(
                "reserved_share: the simulation needs both reserved and other sold capacity to shift the mix",
                details={"field": "reserved_share"},
            )
        use = {"reserved": sold * share}
        use.update({p: u / rest * sold * (ONE - share) for p, u in others.items()})
        return replace(
            self,
            utilisation_by_product=MappingProxyType(use),
            source=f"{self.source}; {source or f'given: reserved share {value}'}",
        )

    def with_failure_scale(self, factor: Decimal, *, source: str) -> Operations:
        """Failures `factor` times as frequent: unhealthy GPU-hours and SLA credits scale by `factor`,
        sold GPU-hours shrink with the healthy capacity (a first-order rule, stated)."""
        lost = ONE - self.healthy_fraction
        healthy = max(ZERO, ONE - lost * factor)
        keep = healthy / self.healthy_fraction if self.healthy_fraction > 0 else ZERO
        use = {p: u * keep for p, u in self.utilisation_by_product.items()}
        return replace(
            self,
            utilisation_by_product=MappingProxyType(use),
            healthy_fraction=healthy,
            credit_share=min(ONE, self.credit_share * factor),
            source=f"{self.source}; {source}",
        )

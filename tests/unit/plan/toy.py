"""One-line builders of the planner's inputs for tests: a simulation result and a small site."""

from __future__ import annotations

from decimal import Decimal

from neocloud.plan.economics import Economics
from neocloud.plan.operations import Operations, Site
from neocloud.sim.result import SimResult


def sim_result(
    *,
    gpus: int = 100,
    days: float = 10.0,
    use: dict[str, float] | None = None,
    price: dict[str, str] | None = None,
    credits: str = "0",
    healthy: float = 1.0,
    mwh_per_gpu_hour: str = "0.001",
    currency: str = "USD",
) -> SimResult:
    """A SimResult whose revenue is `gpus × hours × use[p] × price[p]` for each product."""
    use = use if use is not None else {"on-demand": 0.5}
    price = price if price is not None else {"on-demand": "2"}
    hours = Decimal(gpus) * Decimal(str(days)) * 24
    revenue = {p: hours * Decimal(str(u)) * Decimal(price[p]) for p, u in use.items()}
    return SimResult(
        scenario="toy",
        simulated_days=days,
        seed=0,
        gpus=gpus,
        utilisation=sum(use.values()),
        utilisation_by_product=use,
        healthy_fraction=healthy,
        revenue_by_product=revenue,
        sla_credits=Decimal(credits),
        currency=currency,
        energy_mwh=float(hours * Decimal(mwh_per_gpu_hour)),
        mean_power_mw=0.0,
        events=0,
        wall_seconds=0.0,
    )


def site(gpus: int = 100, mw: str = "1", pue: str = "1.2") -> Site:
    return Site("toy", {"H100": gpus}, Decimal(mw), Decimal(pue))


def operations(**kwargs: object) -> Operations:
    return Operations.from_simulation(sim_result(**kwargs), site())  # type: ignore[arg-type]


# The 3-year toy economics: no staff, space or maintenance; euro electricity at 1.1 $/€.
TOY = {
    "gpu_capex_H100": "12000",
    "network_capex_share": "0",
    "facility_capex_per_mw": "400000",
    "electricity_price": "100",
    "pue": "1.2",
    "staff_fte_per_mw": "0",
    "maintenance_share": "0",
    "space_per_mw_year": "0",
    "gpu_depreciation_years": "3",
    "facility_depreciation_years": "1",
    "debt_share": "0",
    "interest_rate": "0",
    "equity_cost": "0.10",
    "tax_rate": "0.25",
    "fx_usd_per_eur": "1.1",
    "horizon_years": "3",
    "start_year": "2030",
    "build_quarters": "1",
}


def toy_economics(**changes: str) -> Economics:
    return Economics.defaults().override({**TOY, **changes})

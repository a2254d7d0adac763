"""A plan as data for people and programs: the JSON document and the headline rows.

Money is printed as decimal strings with two decimals (never floats); rates and fractions as numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from neocloud.kernel import reference as ref
from neocloud.plan.economics import convert
from neocloud.plan.model import Plan, capex_split
from neocloud.plan.sensitivity import Sensitivity, breakeven_price, breakeven_utilisation, sensitivities

CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


def ratio(value: Decimal | None, places: int = 6) -> float | None:
    return None if value is None else round(float(value), places)


@dataclass(frozen=True, slots=True)
class Analysis:
    """A plan with its break-evens and sensitivities (what `neocloud plan` reports)."""

    plan: Plan
    breakeven_price: Decimal | None
    breakeven_utilisation: Decimal | None
    sensitivities: tuple[Sensitivity, ...]
    overrides: Mapping[str, str]

    @staticmethod
    def of(
        plan: Plan, overrides: Mapping[str, str] | None = None, *, with_sensitivity: bool = True
    ) -> Analysis:
        return Analysis(
            plan,
            breakeven_price(plan),
            breakeven_utilisation(plan),
            tuple(sensitivities(plan)) if with_sensitivity else (),
            dict(overrides or {}),
        )


def assumptions(analysis: Analysis) -> dict[str, dict[str, str]]:
    """Every input with its value, unit, kind and source: economics, then what the simulation measured."""
    plan = analysis.plan
    ops, over = plan.operations, analysis.overrides
    out = plan.economics.as_dict()

    def sim(name: str, value: Decimal, unit: str, lever: str | None = None) -> None:
        given = over.get(lever) if lever is not None else None
        kind = "simulation" if given is None else "override"
        source = ops.source.split("; ")[0] if given is None else f"given: {given}"
        out[name] = {"value": f"{value:f}", "unit": unit, "kind": kind, "source": source}

    sim("utilisation", ops.utilisation, "fraction of GPU-hours sold", "utilisation")
    for product, use in sorted(ops.utilisation_by_product.items()):
        sim(f"utilisation.{product}", use, "fraction of GPU-hours", "utilisation")
    sim("price", ops.price, f"{ops.currency}/sold GPU-hour", "price")
    for product, price in sorted(ops.price_by_product.items()):
        sim(f"price.{product}", price, f"{ops.currency}/sold GPU-hour", "price")
    sim("reserved_share", ops.reserved_share(), "fraction of sold GPU-hours", "reserved_share")
    sim("sla_credit_share", ops.credit_share, "fraction of revenue")
    sim("healthy_fraction", ops.healthy_fraction, "fraction of GPU-hours")
    sim("energy_per_gpu_hour", ops.energy_mwh_per_gpu_hour, f"MWh at PUE {ops.site.pue}")
    out["site.gpus"] = {
        "value": str(ops.site.gpus),
        "unit": "GPUs",
        "kind": "simulation",
        "source": f"the fleet of scenario {ops.site.name}: {dict(ops.site.gpus_by_model)}",
    }
    out["site.facility_mw"] = {
        "value": str(ops.site.facility_mw),
        "unit": "MW",
        "kind": "simulation",
        "source": f"facility power of scenario {ops.site.name}'s fleet",
    }
    out["schedule"] = {
        "value": ",".join(str(m) for m in plan.schedule.mw_per_quarter),
        "unit": "MW per quarter",
        "kind": "override" if "schedule" in over else "assumption",
        "source": plan.schedule.source,
    }
    return out


def plan_json(analysis: Analysis) -> dict[str, Any]:
    plan = analysis.plan
    ops, econ, ccy = plan.operations, plan.economics, plan.currency
    gpus, network, facility = capex_split(ops, econ, ccy)
    fx = econ.value("fx_usd_per_eur")
    be_price = analysis.breakeven_price
    return {
        "scenario": ops.site.name,
        "currency": ccy,
        "npv": money(plan.npv),
        "irr": ratio(plan.irr),
        "payback_years": ratio(plan.payback_years, 3),
        "payback_year": plan.payback_year,
        "peak_funding": money(plan.peak_funding),
        "peak_equity": money(plan.peak_equity),
        "utilisation": ratio(ops.utilisation),
        "utilisation_by_product": {p: ratio(u) for p, u in sorted(ops.utilisation_by_product.items())},
        "price_per_gpu_hour": money(convert(ops.price, ops.currency, ccy, fx)),
        "breakeven_price_per_gpu_hour": None
        if be_price is None
        else money(convert(be_price, ops.currency, ccy, fx)),
        "breakeven_utilisation": ratio(analysis.breakeven_utilisation),
        "discount_rate": ratio(plan.discount_rate),
        "terminal_value": money(plan.terminal_value),
        "capex": {
            "gpus": money(gpus),
            "network": money(network),
            "facility": money(facility),
            "total": money(gpus + network + facility),
            "built": money(plan.capex_first_build),
        },
        "gpus": ops.site.gpus,
        "facility_mw": ratio(ops.site.facility_mw, 3),
        "years": [
            {
                "year": y.year,
                "mw_online": ratio(y.mw_online, 3),
                "gpus_online": ratio(y.gpus_online, 1),
                "revenue": money(y.revenue),
                "energy_cost": money(y.energy_cost),
                "staff_cost": money(y.staff_cost),
                "maintenance_cost": money(y.maintenance_cost),
                "space_cost": money(y.space_cost),
                "ebitda": money(y.ebitda),
                "ebitda_margin": ratio(y.margin),
                "depreciation": money(y.depreciation),
                "interest": money(y.interest),
                "tax": money(y.tax),
                "net_income": money(y.net_income),
                "capex": money(y.capex),
                "cash_flow": money(y.cash_flow),
                "debt": money(y.debt),
            }
            for y in plan.years
        ],
        "schedule": [
            {"quarter": q, "mw_built": ratio(mw, 3), "mw_total": ratio(total, 3)}
            for q, mw, total in plan.schedule.as_rows()
        ],
        "sensitivity": [
            {
                "lever": s.lever,
                "low": s.low,
                "high": s.high,
                "npv_low": None if s.npv_low is None else money(s.npv_low),
                "npv_high": None if s.npv_high is None else money(s.npv_high),
                "swing": money(s.swing),
                "note": s.note,
            }
            for s in analysis.sensitivities
        ],
        "simulation": ops.source.split("; ")[0],
        "assumptions": assumptions(analysis),
    }


def _short(value: Decimal, ccy: str) -> str:
    sign = "-" if value < 0 else ""
    v = abs(value)
    for size, unit in ((Decimal(10) ** 9, "bn"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k")):
        if v >= size:
            return f"{sign}{v / size:,.2f} {unit} {ccy}"
    return f"{sign}{v:,.2f} {ccy}"


def headline_rows(analysis: Analysis) -> list[tuple[str, str]]:
    """The headline table: what the campus costs, earns and needs raised."""
    plan = analysis.plan
    ops, econ, ccy = plan.operations, plan.economics, plan.currency
    fx = econ.value("fx_usd_per_eur")
    gpus, network, facility = capex_split(ops, econ, ccy)
    be_u, be_p = analysis.breakeven_utilisation, analysis.breakeven_price
    rows = [
        ("GPUs / facility power", f"{ops.site.gpus:,} / {ops.site.facility_mw:,.0f} MW"),
        ("capex (GPUs + network + facility)", _short(gpus + network + facility, ccy)),
        (
            "utilisation (simulated)" if "utilisation" not in analysis.overrides else "utilisation (given)",
            f"{ops.utilisation:.1%}",
        ),
        ("average price per sold GPU-hour", f"{convert(ops.price, ops.currency, ccy, fx):,.2f} {ccy}"),
        (f"revenue, year {plan.years[-1].year}", _short(plan.years[-1].revenue, ccy)),
        (
            "EBITDA margin, last year",
            f"{plan.years[-1].margin:.1%}" if plan.years[-1].margin is not None else "-",
        ),
        (f"NPV at {plan.discount_rate:.1%}", _short(plan.npv, ccy)),
        ("IRR", f"{plan.irr:.1%}" if plan.irr is not None else "none"),
        (
            "payback",
            f"{plan.payback_years:.1f} years ({plan.payback_year})"
            if plan.payback_years is not None
            else "not within the horizon",
        ),
        ("peak funding (cash to raise)", _short(plan.peak_funding, ccy)),
        ("  of which equity", _short(plan.peak_equity, ccy)),
        (
            "break-even price per GPU-hour",
            f"{convert(be_p, ops.currency, ccy, fx):,.2f} {ccy}" if be_p is not None else "-",
        ),
        ("break-even utilisation", f"{be_u:.1%}" if be_u is not None else "not reached at 100 %"),
    ]
    if ops.site.name == "campus-1gw":
        budget = convert(Decimal(ref.FRANCE_CAMPUS_BUDGET_EUR), "EUR", ccy, fx)
        raised = convert(Decimal(ref.FRANCE_CAMPUS_OPERATOR_RAISED_USD), "USD", ccy, fx)
        rows.append(("announced budget (€10 bn)", _short(budget, ccy)))
        rows.append(
            ("peak funding / the $4.5M the operator had raised", f"{plan.peak_funding / raised:,.0f}×")
        )
    return rows

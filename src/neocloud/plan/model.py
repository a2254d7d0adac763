"""The campus projection: quarter by quarter, summed into years, then NPV, IRR, payback and funding.

Rules (each stated in the report): capacity comes online as the build schedule says and earns from the
quarter after it is built, at the simulated steady-state utilisation, mix and prices; a quarter is 2,190
hours (8,760 / 4); energy is the simulation's facility energy per GPU-hour rescaled to the plan's PUE;
GPUs (with their network) are depreciated straight-line over `gpu_depreciation_years` and re-bought at
the end of that life, the facility over `facility_depreciation_years`; `debt_share` of every purchase is
borrowed and repaid straight-line over `debt_term_years`, interest on the quarter's opening balance; tax
is paid yearly on profit after losses carried forward. The project's cash flow is EBITDA − capex − tax
(the "capital cash flow"), discounted at the pre-tax weighted cost of capital; the net book value left at
the horizon is counted as a terminal value in the last year (not for payback or peak funding).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from neocloud.kernel.errors import InvalidInput
from neocloud.plan import finance
from neocloud.plan.economics import Economics, convert
from neocloud.plan.operations import Operations
from neocloud.plan.schedule import BuildSchedule

ZERO = Decimal(0)
ONE = Decimal(1)
FOUR = Decimal(4)
HOURS_PER_QUARTER = Decimal(8760) / FOUR


@dataclass(frozen=True, slots=True)
class Year:
    """One year of the plan, in the plan's currency (exact Decimals)."""

    year: int
    mw_online: Decimal
    gpus_online: Decimal
    revenue: Decimal
    energy_cost: Decimal
    staff_cost: Decimal
    maintenance_cost: Decimal
    space_cost: Decimal
    ebitda: Decimal
    depreciation: Decimal
    interest: Decimal
    tax: Decimal
    net_income: Decimal
    capex: Decimal
    cash_flow: Decimal
    debt: Decimal

    @property
    def opex(self) -> Decimal:
        return self.energy_cost + self.staff_cost + self.maintenance_cost + self.space_cost

    @property
    def margin(self) -> Decimal | None:
        return self.ebitda / self.revenue if self.revenue else None


@dataclass(frozen=True, slots=True)
class Plan:
    currency: str
    years: tuple[Year, ...]
    quarterly_cash: tuple[Decimal, ...]
    discount_rate: Decimal
    terminal_value: Decimal
    npv: Decimal
    irr: Decimal | None
    payback_years: Decimal | None
    peak_funding: Decimal
    peak_equity: Decimal
    capex_first_build: Decimal
    operations: Operations
    economics: Economics
    schedule: BuildSchedule

    @property
    def payback_year(self) -> int | None:
        if self.payback_years is None:
            return None
        return self.schedule.start_year + int(self.payback_years)


@dataclass(frozen=True, slots=True)
class _Purchase:
    quarter: int
    amount: Decimal
    life: int  # quarters


def capex_split(ops: Operations, econ: Economics, currency: str) -> tuple[Decimal, Decimal, Decimal]:
    """(GPUs, network, facility) capex of the whole fleet, in `currency`."""
    gpus = ZERO
    for model, count in sorted(ops.site.gpus_by_model.items()):
        name = f"gpu_capex_{model}"
        if name not in econ:
            raise InvalidInput(
                f"{name}: no capex figure for GPU model {model}; give one with --set {name}=USD_PER_GPU",
                details={"field": name},
            )
        gpus += Decimal(count) * econ.amount(name, currency)
    network = gpus * econ.value("network_capex_share")
    facility = ops.site.facility_mw * econ.amount("facility_capex_per_mw", currency)
    return gpus, network, facility


def project(ops: Operations, econ: Economics, schedule: BuildSchedule, currency: str = "USD") -> Plan:
    """The plan of `ops` run on a campus built as `schedule` says, with `econ`'s money, in `currency`."""
    site = ops.site
    if site.facility_mw <= 0:
        raise InvalidInput("site: the fleet has no facility power", details={"field": "facility_mw"})
    schedule.check(site.facility_mw)
    horizon = econ.whole("horizon_years")
    quarters = 4 * horizon
    gpu_life, fac_life = (
        4 * econ.whole("gpu_depreciation_years"),
        4 * econ.whole("facility_depreciation_years"),
    )
    term = 4 * econ.whole("debt_term_years")
    gpu_capex, net_capex, fac_capex = capex_split(ops, econ, currency)

    purchases: list[_Purchase] = []
    mw_built = [ZERO] * quarters
    for q, mw in enumerate(schedule.mw_per_quarter[:quarters]):
        mw_built[q] = mw
        share = mw / site.facility_mw
        purchases.append(_Purchase(q, fac_capex * share, fac_life))
        for again in range(q, quarters, gpu_life):
            purchases.append(_Purchase(again, (gpu_capex + net_capex) * share, gpu_life))

    fx = econ.value("fx_usd_per_eur")
    earn_per_gpu_hour = convert(ops.revenue_per_fleet_gpu_hour, ops.currency, currency, fx)
    mwh_per_gpu_hour = ops.energy_mwh_per_gpu_hour * econ.value("pue") / site.pue
    power_price = econ.amount("electricity_price", currency)
    staff_per_mw = econ.value("staff_fte_per_mw") * econ.amount("staff_cost_per_fte", currency) / FOUR
    space_per_mw = econ.amount("space_per_mw_year", currency) / FOUR
    maintenance = econ.value("maintenance_share") / FOUR
    debt_share, rate = econ.value("debt_share"), econ.value("interest_rate") / FOUR

    draws: list[Decimal] = []
    balance = ZERO
    online = ZERO
    rows: dict[str, list[Decimal]] = {
        k: []
        for k in (
            "mw",
            "gpus",
            "revenue",
            "energy",
            "staff",
            "maintenance",
            "space",
            "depreciation",
            "interest",
            "capex",
            "debt",
            "repay",
            "draw",
        )
    }
    for q in range(quarters):
        gpus_online = Decimal(site.gpus) * online / site.facility_mw
        gpu_hours = gpus_online * HOURS_PER_QUARTER
        in_service = [p for p in purchases if p.quarter < q <= p.quarter + p.life]
        capex = sum((p.amount for p in purchases if p.quarter == q), ZERO)
        repay = sum((d / term for k, d in enumerate(draws) if k < q <= k + term), ZERO)
        interest = balance * rate
        rows["mw"].append(online)
        rows["gpus"].append(gpus_online)
        rows["revenue"].append(gpu_hours * earn_per_gpu_hour)
        rows["energy"].append(gpu_hours * mwh_per_gpu_hour * power_price)
        rows["staff"].append(online * staff_per_mw)
        rows["space"].append(online * space_per_mw)
        rows["maintenance"].append(sum((p.amount for p in in_service), ZERO) * maintenance)
        rows["depreciation"].append(sum((p.amount / p.life for p in in_service), ZERO))
        rows["interest"].append(interest)
        rows["capex"].append(capex)
        rows["repay"].append(repay)
        draw = capex * debt_share
        draws.append(draw)
        rows["draw"].append(draw)
        balance += draw - repay
        rows["debt"].append(balance)
        online += mw_built[q]

    book_value = sum(
        (
            p.amount * max(0, p.life - (quarters - 1 - p.quarter)) / p.life
            for p in purchases
            if p.quarter < quarters
        ),
        ZERO,
    )
    years: list[Year] = []
    quarterly_cash: list[Decimal] = []
    equity_cash: list[Decimal] = []
    tax_rate, losses = econ.value("tax_rate"), ZERO
    for y in range(horizon):
        span = range(4 * y, 4 * y + 4)

        def total(key: str, span: range = span) -> Decimal:
            return sum((rows[key][q] for q in span), ZERO)

        revenue, energy, staff = total("revenue"), total("energy"), total("staff")
        maint, space = total("maintenance"), total("space")
        ebitda = revenue - energy - staff - maint - space
        dep, interest, capex = total("depreciation"), total("interest"), total("capex")
        before_tax = ebitda - dep - interest
        if before_tax <= 0:
            losses -= before_tax
            tax = ZERO
        else:
            used = min(losses, before_tax)
            losses -= used
            tax = (before_tax - used) * tax_rate
        for q in span:
            q_cash = (
                rows["revenue"][q]
                - rows["energy"][q]
                - rows["staff"][q]
                - rows["maintenance"][q]
                - rows["space"][q]
                - rows["capex"][q]
                - (tax if q == span[-1] else ZERO)
            )
            quarterly_cash.append(q_cash)
            equity_cash.append(q_cash - rows["interest"][q] + rows["draw"][q] - rows["repay"][q])
        years.append(
            Year(
                year=schedule.start_year + y,
                mw_online=rows["mw"][span[-1]] + mw_built[span[-1]],
                gpus_online=total("gpus") / FOUR,
                revenue=revenue,
                energy_cost=energy,
                staff_cost=staff,
                maintenance_cost=maint,
                space_cost=space,
                ebitda=ebitda,
                depreciation=dep,
                interest=interest,
                tax=tax,
                net_income=before_tax - tax,
                capex=capex,
                cash_flow=ebitda - capex - tax,
                debt=rows["debt"][span[-1]],
            )
        )

    discount = debt_share * econ.value("interest_rate") + (ONE - debt_share) * econ.value("equity_cost")
    flows = [y.cash_flow for y in years]
    flows[-1] += book_value
    return Plan(
        currency=currency,
        years=tuple(years),
        quarterly_cash=tuple(quarterly_cash),
        discount_rate=discount,
        terminal_value=book_value,
        npv=finance.npv(discount, flows),
        irr=finance.irr(flows),
        payback_years=_years(finance.payback_periods(quarterly_cash)),
        peak_funding=finance.peak_funding(quarterly_cash),
        peak_equity=finance.peak_funding(equity_cash),
        capex_first_build=(gpu_capex + net_capex + fac_capex) * schedule.total_mw / site.facility_mw,
        operations=ops,
        economics=econ,
        schedule=schedule,
    )


def _years(quarters: Decimal | None) -> Decimal | None:
    return None if quarters is None else quarters / FOUR


def default_schedule(ops: Operations, econ: Economics) -> BuildSchedule:
    """The fleet's whole facility power in equal steps over `build_quarters` from `start_year`."""
    item = econ["build_quarters"]
    return BuildSchedule.even(
        ops.site.facility_mw,
        econ.whole("build_quarters"),
        econ.whole("start_year"),
        f"{ops.site.facility_mw:.1f} MW in {item.value} equal quarterly steps ({item.kind}: {item.source})",
    )

"""The whole projection on a 3-year toy campus, every figure worked out by hand here.

100 H100 on 1 MW, all built in 2030Q1 (capex $1.2M GPUs + $0.4M facility), earning from Q2 at 50 %
on-demand utilisation and $2 per sold GPU-hour; 0.001 MWh per GPU-hour at 100 €/MWh and 1.1 $/€; GPUs
depreciated over 3 years (12 quarters), the facility over 1 year (4 quarters); tax 25 % with losses carried
forward; no debt; discount rate 10 % (the equity cost).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import sqrt

import pytest

from neocloud.kernel.errors import InvalidInput
from neocloud.plan.model import default_schedule, project
from neocloud.plan.schedule import BuildSchedule
from tests.unit.plan.toy import operations, toy_economics

D = Decimal
F = Fraction
HOURS_Q = F(8760, 4)  # 2,190 h a quarter
REVENUE_Q = 100 * HOURS_Q * F(1, 2) * 2  # 219,000
ENERGY_Q = 100 * HOURS_Q * F(1, 1000) * 100 * F(11, 10)  # 24,090 (euros converted at 1.1)
EBITDA_Q = REVENUE_Q - ENERGY_Q  # 194,910 a quarter online
DEP_GPU_Q, DEP_FAC_Q = F(1_200_000, 12), F(400_000, 4)  # 100,000 each

# Year 1: three quarters online (Q2-Q4); depreciation of both for those three quarters.
EBITDA = [3 * EBITDA_Q, 4 * EBITDA_Q, 4 * EBITDA_Q]  # 584,730; 779,640; 779,640
DEP = [3 * (DEP_GPU_Q + DEP_FAC_Q), 4 * DEP_GPU_Q + DEP_FAC_Q, 4 * DEP_GPU_Q]  # 600k, 500k, 400k
EBT = [e - d for e, d in zip(EBITDA, DEP, strict=True)]  # -15,270; 279,640; 379,640
TAX = [F(0), (EBT[1] + EBT[0]) / 4, EBT[2] / 4]  # the year-1 loss offsets year 2
CASH = [EBITDA[0] - 1_600_000, EBITDA[1] - TAX[1], EBITDA[2] - TAX[2]]
TERMINAL = F(1_200_000, 12)  # one GPU quarter of book value left (bought Q1 2030, 11 quarters used)


@pytest.fixture(scope="module")
def plan():
    ops = operations()
    econ = toy_economics()
    return project(ops, econ, default_schedule(ops, econ))


def test_hand_figures_are_what_the_doc_says():
    assert (REVENUE_Q, ENERGY_Q, EBITDA_Q) == (219_000, 24_090, 194_910)
    assert [0, F(66_092_5, 10), 94_910] == TAX
    assert [-1_015_270, F(713_547_5, 10), 684_730] == CASH


def test_profit_and_loss_per_year(plan):
    assert [y.year for y in plan.years] == [2030, 2031, 2032]
    assert [float(y.revenue) for y in plan.years] == [3 * REVENUE_Q, 4 * REVENUE_Q, 4 * REVENUE_Q]
    assert [float(y.energy_cost) for y in plan.years] == pytest.approx(
        [3 * ENERGY_Q, 4 * ENERGY_Q, 4 * ENERGY_Q]
    )
    assert [float(y.ebitda) for y in plan.years] == pytest.approx(EBITDA)
    assert [float(y.depreciation) for y in plan.years] == pytest.approx(DEP)
    assert [float(y.tax) for y in plan.years] == pytest.approx(TAX)
    assert [float(y.net_income) for y in plan.years] == pytest.approx(
        [b - t for b, t in zip(EBT, TAX, strict=True)]
    )
    assert [float(y.capex) for y in plan.years] == [1_600_000, 0, 0]
    assert [float(y.cash_flow) for y in plan.years] == pytest.approx(CASH)
    assert float(plan.years[1].margin) == pytest.approx(EBITDA_Q / REVENUE_Q)


def test_npv_at_the_discount_rate(plan):
    flows = [Fraction(c) for c in CASH]
    flows[-1] += Fraction(TERMINAL)
    by_hand = sum(f / Fraction(11, 10) ** (t + 1) for t, f in enumerate(flows))
    assert plan.discount_rate == D("0.10")
    assert float(plan.terminal_value) == pytest.approx(TERMINAL)
    assert float(plan.npv) == pytest.approx(float(by_hand), abs=1e-6)


def test_irr_from_the_quadratic(plan):
    c1, c2, c3 = CASH[0], CASH[1], CASH[2] + TERMINAL  # c1 x² + c2 x + c3 = 0, x = 1 + irr
    c1, c2, c3 = float(c1), float(c2), float(c3)
    x = (-c2 - sqrt(c2 * c2 - 4 * c1 * c3)) / (2 * c1)
    assert plan.irr is not None
    assert float(plan.irr) == pytest.approx(x - 1, abs=1e-9)


def test_payback_within_the_tenth_quarter(plan):
    # Cumulative cash by quarter: -1.6M in Q1 2030, +194,910 a quarter after, minus 66,092.5 tax in the
    # last quarter of 2031: after 9 quarters -106,812.5, so 106,812.5 / 194,910 into the 10th.
    after_nine = -1_600_000 + 8 * EBITDA_Q - TAX[1]
    assert after_nine == F(-106_812_5, 10)
    assert float(plan.payback_years) == pytest.approx((9 + -after_nine / EBITDA_Q) / 4)
    assert plan.payback_year == 2032
    assert float(plan.peak_funding) == 1_600_000
    assert plan.peak_equity == plan.peak_funding  # no debt


def test_debt_interest_on_the_opening_balance():
    ops = operations()
    econ = toy_economics(debt_share="0.5", interest_rate="0.08", debt_term_years="1")
    plan = project(ops, econ, default_schedule(ops, econ))
    # $800k borrowed in Q1, repaid $200k a quarter from Q2: interest 2 % of 800k, 600k, 400k, 200k.
    assert float(plan.years[0].interest) == pytest.approx(16_000 + 12_000 + 8_000)
    assert float(plan.years[1].interest) == pytest.approx(4_000)
    assert float(plan.years[0].debt) == pytest.approx(200_000)
    assert plan.discount_rate == D("0.5") * D("0.08") + D("0.5") * D("0.10")
    # Equity funds half the capex up front and the interest and repayments until revenue catches up.
    assert float(plan.peak_equity) < float(plan.peak_funding)
    assert float(plan.peak_equity) >= 800_000


def test_gpus_are_bought_again_at_the_end_of_their_life():
    ops = operations()
    econ = toy_economics(gpu_depreciation_years="2")
    plan = project(ops, econ, default_schedule(ops, econ))
    assert [float(y.capex) for y in plan.years] == [1_600_000, 0, 1_200_000]


def test_a_later_build_earns_later():
    ops = operations()
    econ = toy_economics()
    schedule = BuildSchedule.parse("0,0,1", 2030, ops.site.facility_mw)
    plan = project(ops, econ, schedule)
    assert float(plan.years[0].revenue) == REVENUE_Q  # built in Q3, earns in Q4 only
    assert float(plan.years[0].capex) == 1_600_000


def test_a_schedule_beyond_the_fleet_names_the_field():
    with pytest.raises(InvalidInput) as err:
        BuildSchedule.parse("1,1", 2030, D(1))
    assert err.value.details["field"] == "schedule"

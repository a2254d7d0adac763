"""Break-evens are where NPV crosses zero; the tornado moves one lever at a time."""

from __future__ import annotations

from decimal import Decimal

from neocloud.plan.model import default_schedule, project
from neocloud.plan.sensitivity import breakeven_price, breakeven_utilisation, sensitivities
from tests.unit.plan.toy import operations, toy_economics


def toy_plan(**use):
    ops = operations(**use)
    econ = toy_economics()
    return project(ops, econ, default_schedule(ops, econ))


def test_breakeven_price_gives_zero_npv():
    plan = toy_plan()
    price = breakeven_price(plan)
    assert price is not None and price < plan.operations.price  # the toy pays at $2
    again = project(plan.operations.with_price(price), plan.economics, plan.schedule)
    assert abs(again.npv) < Decimal("0.01")


def test_breakeven_utilisation_gives_zero_npv():
    plan = toy_plan()
    use = breakeven_utilisation(plan)
    assert use is not None and Decimal(0) < use < Decimal("0.5")
    again = project(plan.operations.with_utilisation(use), plan.economics, plan.schedule)
    assert abs(again.npv) < Decimal("0.01")


def test_no_breakeven_utilisation_when_even_full_use_loses():
    plan = toy_plan(price={"on-demand": "0.2"})
    assert plan.npv < 0
    assert breakeven_utilisation(plan) is None


def test_tornado_rows_move_npv_the_expected_way():
    rows = {
        s.lever: s
        for s in sensitivities(
            toy_plan(use={"reserved": 0.3, "on-demand": 0.2}, price={"reserved": "1.5", "on-demand": "3"})
        )
    }
    assert set(rows) == {
        "price",
        "utilisation",
        "electricity",
        "capex",
        "failure rate",
        "contract mix (reserved)",
        "interest",
    }
    assert rows["price"].npv_high > rows["price"].npv_low
    assert rows["utilisation"].npv_high > rows["utilisation"].npv_low
    assert rows["electricity"].npv_high < rows["electricity"].npv_low
    assert rows["capex"].npv_high < rows["capex"].npv_low
    assert (
        rows["contract mix (reserved)"].npv_high < rows["contract mix (reserved)"].npv_low
    )  # reserved is cheaper
    assert (
        rows["interest"].npv_high == rows["interest"].npv_low
    )  # the toy has no debt, discount = equity cost

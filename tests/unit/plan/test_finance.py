"""NPV, IRR, payback and peak funding against sums worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import sqrt

import pytest

from neocloud.plan import finance

D = Decimal
FLOWS = [D(-100), D(60), D(70)]  # years 1, 2, 3, each at its year's end


def test_npv_discounts_each_year_end():
    by_hand = (
        Fraction(-100) / Fraction(11, 10)
        + Fraction(60) / Fraction(121, 100)
        + Fraction(70) / Fraction(1331, 1000)
    )
    assert abs(Fraction(finance.npv(D("0.1"), FLOWS)) - by_hand) < Fraction(1, 10**20)
    assert f"{finance.npv(D('0.1'), FLOWS):.6f}" == "11.269722"


def test_npv_at_zero_rate_is_the_sum():
    assert finance.npv(D(0), FLOWS) == D(30)


def test_irr_solves_the_quadratic():
    # -100/x + 60/x² + 70/x³ = 0  <=>  100x² - 60x - 70 = 0 with x = 1 + r
    x = (60 + sqrt(60**2 + 4 * 100 * 70)) / (2 * 100)
    got = finance.irr(FLOWS)
    assert got is not None
    assert abs(float(got) - (x - 1)) < 1e-12
    assert f"{got:.4f}" == "0.1888"


def test_irr_is_none_without_a_sign_change():
    assert finance.irr([D(10), D(20)]) is None
    assert finance.irr([D(-10), D(-20)]) is None


def test_payback_interpolates_inside_the_year_of_crossing():
    # cumulative -100, -40, +30: back to zero 40/70 of the way through year 3
    assert finance.payback_periods(FLOWS) == D(2) + D(40) / D(70)


def test_payback_never_and_immediately():
    assert finance.payback_periods([D(-100), D(10), D(10)]) is None
    assert finance.payback_periods([D(5), D(10)]) == 0


def test_peak_funding_is_the_deepest_cumulative_hole():
    assert finance.peak_funding(FLOWS) == D(100)
    assert finance.peak_funding([D(-30), D(-50), D(100), D(-90)]) == D(80)
    assert finance.peak_funding([D(1)]) == 0


def test_npv_refuses_a_rate_at_minus_one():
    with pytest.raises(ValueError):
        finance.npv(D(-1), FLOWS)

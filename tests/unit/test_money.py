from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.money import GpuTime, Money, parse_decimal, round_half_even, total


def test_money_is_built_from_a_decimal_string_in_minor_units():
    assert Money.of("12.34", "USD") == Money(1234, "USD")


def test_a_float_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as err:
        Money.of(12.34, "USD", field="price")
    assert err.value.details["field"] == "price"


def test_more_decimals_than_the_currency_has_are_refused():
    with pytest.raises(InvalidInput, match="more than 2 decimals"):
        Money.of("1.005", "EUR")


def test_non_decimal_text_is_refused():
    with pytest.raises(InvalidInput, match="not a decimal"):
        parse_decimal("ten", field="price")


def test_infinity_is_refused():
    with pytest.raises(InvalidInput, match="finite"):
        parse_decimal("Infinity", field="price")


def test_negative_is_refused_unless_allowed():
    with pytest.raises(InvalidInput, match="negative"):
        parse_decimal("-1", field="price")
    assert parse_decimal("-1", field="adjustment", allow_negative=True) == Decimal(-1)


def test_unknown_currency_is_refused():
    with pytest.raises(InvalidInput, match="unknown currency"):
        Money.of("1", "XYZ")


def test_currencies_never_mix():
    with pytest.raises(InvalidInput, match="cannot combine"):
        Money.of("1", "USD") + Money.of("1", "EUR")


@pytest.mark.parametrize(
    ("exact", "cents"),
    [("0.125", 12), ("0.135", 14), ("-0.125", -12), ("2.5049", 250), ("0.005", 0), ("0.015", 2)],
)
def test_rounding_is_half_even(exact: str, cents: int):
    assert round_half_even(Decimal(exact), "USD") == Money(cents, "USD")


def test_text_keeps_the_currency_decimals_and_sign():
    assert str(Money(-1230, "EUR")) == "-12.30"
    assert str(Money(5, "USD")) == "0.05"


def test_gpu_time_counts_milli_gpu_seconds():
    shared = GpuTime.of(1, 300, 3600)
    assert shared.milli_gpu_seconds == 1_080_000
    assert shared.gpu_hours == Fraction(3, 10)


amounts = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2, allow_nan=False)


@given(st.lists(amounts, max_size=30))
def test_sum_of_money_is_exactly_the_decimal_sum(values: list[Decimal]):
    money = [Money.of(str(v), "USD") for v in values]
    assert total(money, "USD").decimal() == sum(values, Decimal(0))


@given(amounts, amounts)
def test_subtraction_undoes_addition(a: Decimal, b: Decimal):
    x, y = Money.of(str(a), "EUR"), Money.of(str(b), "EUR")
    assert (x + y) - y == x


@given(st.fractions(min_value=-(10**6), max_value=10**6))
def test_rounding_is_within_half_a_cent_and_symmetric(value: Fraction):
    rounded = round_half_even(value, "USD")
    assert abs(Fraction(rounded.minor, 100) - value) <= Fraction(1, 200)
    assert round_half_even(-value, "USD") == -rounded

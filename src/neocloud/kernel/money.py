"""Money and GPU time: exact value types for everything summed or billed.

`Money` is an integer count of minor units (cents) in one currency. It is built from decimal strings,
never from floats, and it is rounded in exactly one place: `round_half_even`. `GpuTime` counts
milli-GPU-seconds, so a whole GPU for one second is 1000 and a GPU shared at 300 milli for one second is
300; whole-GPU usage is therefore always an exact integer number of GPU-seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Final

from neocloud.kernel.errors import InvalidInput

# ISO 4217 minor-unit exponents of the currencies a catalog may use.
CURRENCY_EXPONENT: Final[dict[str, int]] = {"USD": 2, "EUR": 2}
MILLI_PER_GPU: Final = 1000
SECONDS_PER_HOUR: Final = 3600


def check_currency(currency: str, *, field: str = "currency") -> str:
    """`currency` itself if it is one the platform bills in; InvalidInput naming `field` otherwise."""
    if currency not in CURRENCY_EXPONENT:
        raise InvalidInput(
            f"{field}: unknown currency {currency!r}",
            details={"field": field, "value": currency, "known": sorted(CURRENCY_EXPONENT)},
        )
    return currency


def parse_decimal(value: object, *, field: str, allow_negative: bool = False) -> Decimal:
    """A finite Decimal from a decimal string (or Decimal/int); floats are refused because they are not
    exact. InvalidInput names `field` for anything else."""
    if isinstance(value, bool | float):
        raise InvalidInput(
            f"{field}: give a decimal string, not a float ({value!r})",
            details={"field": field, "value": repr(value)},
        )
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput(
                f"{field}: {value!r} is not a decimal number", details={"field": field, "value": value}
            ) from None
    else:
        raise InvalidInput(
            f"{field}: expected a decimal string", details={"field": field, "value": repr(value)}
        )
    if not number.is_finite():
        raise InvalidInput(
            f"{field}: {value!r} is not a finite number", details={"field": field, "value": str(value)}
        )
    if number < 0 and not allow_negative:
        raise InvalidInput(
            f"{field}: must not be negative ({value})", details={"field": field, "value": str(value)}
        )
    return number


def round_half_even(value: Fraction | Decimal | int, currency: str) -> Money:
    """THE rounding of the platform: an exact amount in major units to whole minor units, half to even.

    Every amount that is not already a whole number of minor units (line amounts, tax) goes through here,
    once, so totals never drift by accumulated rounding.
    """
    scale = 10 ** CURRENCY_EXPONENT[check_currency(currency)]
    exact = Fraction(value) * scale
    return Money(round(exact), currency)  # Python's round() on a Fraction is half-even and exact


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount: `minor` units (cents) of `currency`. Arithmetic refuses to mix currencies."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise InvalidInput(
                "Money.minor must be an int", details={"field": "minor", "value": repr(self.minor)}
            )
        check_currency(self.currency)

    @staticmethod
    def of(amount: object, currency: str, *, field: str = "amount") -> Money:
        """Money from a decimal string such as "12.34". More decimals than the currency has are refused
        (a price with sub-cent precision is a `UnitPrice`, not Money)."""
        number = parse_decimal(amount, field=field, allow_negative=True)
        exponent = CURRENCY_EXPONENT[check_currency(currency)]
        scaled = number.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise InvalidInput(
                f"{field}: {amount!r} has more than {exponent} decimals for {currency}",
                details={"field": field, "value": str(amount)},
            )
        return Money(int(scaled), currency)

    @staticmethod
    def zero(currency: str) -> Money:
        return Money(0, currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise InvalidInput(
                f"cannot combine {self.currency} and {other.currency}",
                details={"field": "currency", "left": self.currency, "right": other.currency},
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-CURRENCY_EXPONENT[self.currency])

    def __str__(self) -> str:
        """The amount as a decimal string with the currency's decimals, e.g. "-12.30"."""
        return f"{self.decimal():.{CURRENCY_EXPONENT[self.currency]}f}"


def total(amounts: list[Money] | tuple[Money, ...], currency: str) -> Money:
    """The exact sum of `amounts` (Money.zero(currency) when empty)."""
    out = Money.zero(currency)
    for amount in amounts:
        out = out + amount
    return out


@dataclass(frozen=True, slots=True)
class GpuTime:
    """GPU time in milli-GPU-seconds (1000 = one whole GPU for one second)."""

    milli_gpu_seconds: int

    @staticmethod
    def of(gpus: int, milli_per_gpu: int, seconds: int) -> GpuTime:
        return GpuTime(gpus * milli_per_gpu * seconds)

    def __add__(self, other: GpuTime) -> GpuTime:
        return GpuTime(self.milli_gpu_seconds + other.milli_gpu_seconds)

    @property
    def gpu_seconds(self) -> Fraction:
        return Fraction(self.milli_gpu_seconds, MILLI_PER_GPU)

    @property
    def gpu_hours(self) -> Fraction:
        return Fraction(self.milli_gpu_seconds, MILLI_PER_GPU * SECONDS_PER_HOUR)


def decimal_text(value: Fraction, places: int) -> str:
    """`value` as a decimal string with `places` decimals, half-even: for display (GPU-hours), never money."""
    scaled = round(value * 10**places)
    return f"{Decimal(scaled).scaleb(-places):.{places}f}"

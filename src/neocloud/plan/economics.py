"""The planner's economic inputs: every figure a named `Assumption` with its unit and source.

Defaults come from `kernel.reference.PLAN_ECONOMICS` (REFERENCE.md figures, derived ones and labelled
assumptions); `Economics.override({"pue": "1.3"})` replaces any of them, refusing unknown names and bad
values with an `InvalidInput` that names the field. Amounts carry their currency in their unit
("USD/MW", "EUR/MWh"); `Economics.amount(name, currency)` is the one place a euro figure becomes a dollar
one (or back), through the dated `fx_usd_per_eur` rate, so currencies never mix silently.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from types import MappingProxyType

from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.money import CURRENCY_EXPONENT, check_currency, parse_decimal

KINDS = ("reference", "derived", "assumption", "simulation", "override")


@dataclass(frozen=True, slots=True)
class Assumption:
    """One input of the plan: its value, unit, where it comes from (`kind`) and the source text."""

    name: str
    value: Decimal
    unit: str
    kind: str
    source: str

    @property
    def currency(self) -> str | None:
        """The currency of a monetary figure ("USD/MW" -> "USD"), None for a plain number."""
        head = self.unit.split("/", 1)[0]
        return head if head in CURRENCY_EXPONENT else None

    def as_dict(self) -> dict[str, str]:
        return {"value": f"{self.value:f}", "unit": self.unit, "kind": self.kind, "source": self.source}


# Range checks: (minimum, maximum or None, whole number?). Every name in PLAN_ECONOMICS has one.
_ONE = Decimal(1)
_LIMITS: dict[str, tuple[Decimal, Decimal | None, bool]] = {
    "pue": (_ONE, Decimal(5), False),
    "network_capex_share": (Decimal(0), Decimal(10), False),
    "maintenance_share": (Decimal(0), _ONE, False),
    "debt_share": (Decimal(0), _ONE, False),
    "interest_rate": (Decimal(0), _ONE, False),
    "equity_cost": (Decimal(0), _ONE, False),
    "tax_rate": (Decimal(0), _ONE, False),
    "gpu_depreciation_years": (_ONE, Decimal(50), True),
    "facility_depreciation_years": (_ONE, Decimal(100), True),
    "debt_term_years": (_ONE, Decimal(50), True),
    "horizon_years": (_ONE, Decimal(50), True),
    "start_year": (Decimal(1990), Decimal(2200), True),
    "build_quarters": (_ONE, Decimal(200), True),
    "fx_usd_per_eur": (Decimal("0.01"), Decimal(100), False),
}


def _check(name: str, value: Decimal) -> Decimal:
    low, high, whole = _LIMITS.get(name, (Decimal(0), None, False))
    if value < low or (high is not None and value > high):
        span = f"{low}..{high}" if high is not None else f">= {low}"
        raise InvalidInput(
            f"{name}: {value} is out of range ({span})", details={"field": name, "value": str(value)}
        )
    if whole and value != value.to_integral_value():
        raise InvalidInput(f"{name}: must be a whole number, got {value}", details={"field": name})
    if name == "fx_usd_per_eur" and value == 0:
        raise InvalidInput("fx_usd_per_eur: must be positive", details={"field": name})
    return value


class Economics(Mapping[str, Assumption]):
    """An immutable set of named assumptions (a Mapping name -> Assumption)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Assumption]) -> None:
        self._items = MappingProxyType(dict(items))

    @staticmethod
    def defaults() -> Economics:
        """The documented defaults of `kernel.reference.PLAN_ECONOMICS`, each with its source."""
        out: dict[str, Assumption] = {}
        for name, fig in ref.PLAN_ECONOMICS.items():
            out[name] = Assumption(name, _check(name, Decimal(fig.value)), fig.unit, fig.kind, fig.source)
        return Economics(out)

    def __getitem__(self, name: str) -> Assumption:
        try:
            return self._items[name]
        except KeyError:
            raise InvalidInput(
                f"unknown economics input {name!r}", details={"field": name, "known": sorted(self._items)}
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def value(self, name: str) -> Decimal:
        return self[name].value

    def whole(self, name: str) -> int:
        return int(self[name].value)

    def amount(self, name: str, currency: str) -> Decimal:
        """The figure `name` in `currency`: converted through `fx_usd_per_eur` if it is in the other one.

        Refuses a non-monetary figure, so a ratio is never taken for money by mistake."""
        item = self[name]
        source = item.currency
        if source is None:
            raise InvalidInput(f"{name} is not an amount of money ({item.unit})", details={"field": name})
        return convert(item.value, source, currency, self.value("fx_usd_per_eur"))

    def override(self, values: Mapping[str, object], *, kind: str = "override") -> Economics:
        """A copy with `values` (decimal strings, ints or Decimals; never floats) in place of the defaults.

        InvalidInput names the field: an unknown name (listing the known ones), a value that is not a
        decimal number, or one out of the field's range."""
        items = dict(self._items)
        for name, raw in values.items():
            if name not in items and is_gpu_capex(name):
                items[name] = Assumption(name, Decimal(0), "USD/GPU", kind, "")
            if name not in items:
                raise InvalidInput(
                    f"unknown economics input {name!r}; known: {', '.join(sorted(items))}",
                    details={"field": name, "known": sorted(items)},
                )
            value = _check(name, parse_decimal(raw, field=name))
            items[name] = replace(items[name], value=value, kind=kind, source=f"given: {raw}")
        return Economics(items)

    def scaled(self, name: str, factor: Decimal, note: str) -> Economics:
        """A copy with `name` multiplied by `factor` (for sensitivities), its source saying so."""
        item = self[name]
        value = _check(name, item.value * factor)
        return Economics({**self._items, name: replace(item, value=value, kind="override", source=note)})

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {name: item.as_dict() for name, item in self._items.items()}


def is_gpu_capex(name: str) -> bool:
    """`gpu_capex_<MODEL>`: the capex per GPU of any model, so a fleet of another model can be priced."""
    return name.startswith("gpu_capex_") and len(name) > len("gpu_capex_")


def convert(value: Decimal, source: str, target: str, usd_per_eur: Decimal) -> Decimal:
    """`value` in `source` currency expressed in `target`, through the one EUR/USD rate."""
    check_currency(source, field="currency")
    check_currency(target, field="currency")
    if source == target:
        return value
    if (source, target) == ("EUR", "USD"):
        return value * usd_per_eur
    if (source, target) == ("USD", "EUR"):
        return value / usd_per_eur
    raise InvalidInput(f"no exchange rate from {source} to {target}", details={"field": "currency"})

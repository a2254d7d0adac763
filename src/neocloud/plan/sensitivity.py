"""Break-even points and the sensitivity (tornado) table of a plan.

Break-even price: the average realised price per sold GPU-hour (all products scaled together) at which
NPV is zero. Break-even utilisation: the sold fraction of GPU-hours (same product mix) at which NPV is
zero, None if even 100 % does not pay. Both by bisection on the full projection, so tax, debt and the
build schedule are all in them.

Sensitivities move one input at a time from the base: price and electricity ±20 %, capex (GPUs,
network, facility) ±20 %, utilisation ±10 points, failure rate ×0.5 / ×2, contract mix (reserved share)
±20 points, interest ±2 points; each row gives NPV at the low and the high setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from neocloud.kernel.errors import InvalidInput
from neocloud.plan.economics import Economics
from neocloud.plan.model import Plan, project
from neocloud.plan.operations import Operations

ZERO = Decimal(0)
ONE = Decimal(1)
_STEPS = 60


def _npv(ops: Operations, econ: Economics, base: Plan) -> Decimal:
    return project(ops, econ, base.schedule, base.currency).npv


def _root(f: Callable[[Decimal], Decimal], lo: Decimal, hi: Decimal) -> Decimal:
    f_lo = f(lo)
    for _ in range(_STEPS):
        mid = (lo + hi) / 2
        f_mid = f(mid)
        if (f_mid < 0) == (f_lo < 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return (lo + hi) / 2


def breakeven_price(base: Plan) -> Decimal | None:
    """The average price per sold GPU-hour (in the simulation's price currency) where NPV = 0."""
    ops, econ = base.operations, base.economics
    if ops.price == 0:
        return None

    def npv_at(scale: Decimal) -> Decimal:
        return _npv(ops.with_price_scale(scale, source="break-even"), econ, base)

    hi = Decimal(2)
    while npv_at(hi) < 0:
        hi *= 2
        if hi > 2**20:
            return None
    return ops.price * _root(npv_at, ZERO, hi)


def breakeven_utilisation(base: Plan) -> Decimal | None:
    """The sold fraction of GPU-hours where NPV = 0; None when 100 % is not enough (or nothing sells)."""
    ops, econ = base.operations, base.economics
    if ops.utilisation == 0:
        return None

    def npv_at(u: Decimal) -> Decimal:
        return _npv(ops.with_utilisation(u, source="break-even"), econ, base)

    if npv_at(ONE) < 0:
        return None
    if npv_at(ZERO) >= 0:
        return ZERO
    return _root(npv_at, ZERO, ONE)


@dataclass(frozen=True, slots=True)
class Sensitivity:
    lever: str
    low: str
    high: str
    npv_low: Decimal | None
    npv_high: Decimal | None
    note: str = ""

    @property
    def swing(self) -> Decimal:
        if self.npv_low is None or self.npv_high is None:
            return ZERO
        return abs(self.npv_high - self.npv_low)


def _clip(value: Decimal) -> Decimal:
    return min(ONE, max(ZERO, value))


def _capex(econ: Economics, factor: Decimal, note: str) -> Economics:
    for name in [n for n in econ if n.startswith("gpu_capex_")] + ["facility_capex_per_mw"]:
        econ = econ.scaled(name, factor, note)
    return econ


def sensitivities(base: Plan) -> list[Sensitivity]:
    """One row per lever, largest NPV swing first."""
    ops, econ = base.operations, base.economics
    lo, hi = Decimal("0.8"), Decimal("1.2")
    rows: list[Sensitivity] = []

    def row(lever: str, low: str, high: str, make: Callable[[bool], tuple[Operations, Economics]]) -> None:
        try:
            values = [_npv(*make(side), base) for side in (False, True)]
        except InvalidInput as exc:
            rows.append(Sensitivity(lever, low, high, None, None, exc.message))
            return
        rows.append(Sensitivity(lever, low, high, values[0], values[1]))

    row(
        "price",
        "-20 %",
        "+20 %",
        lambda h: (ops.with_price_scale(hi if h else lo, source="sensitivity"), econ),
    )
    u = ops.utilisation
    row(
        "utilisation",
        f"{_clip(u - Decimal('0.1')):.0%}",
        f"{_clip(u + Decimal('0.1')):.0%}",
        lambda h: (
            ops.with_utilisation(_clip(u + (Decimal("0.1") if h else Decimal("-0.1"))), source="sensitivity"),
            econ,
        ),
    )
    row(
        "electricity",
        "-20 %",
        "+20 %",
        lambda h: (ops, econ.scaled("electricity_price", hi if h else lo, "sensitivity")),
    )
    row("capex", "-20 %", "+20 %", lambda h: (ops, _capex(econ, hi if h else lo, "sensitivity")))
    row(
        "failure rate",
        "x0.5",
        "x2",
        lambda h: (ops.with_failure_scale(Decimal(2) if h else Decimal("0.5"), source="sensitivity"), econ),
    )
    r = ops.reserved_share()
    row(
        "contract mix (reserved)",
        f"{_clip(r - Decimal('0.2')):.0%}",
        f"{_clip(r + Decimal('0.2')):.0%}",
        lambda h: (
            ops.with_reserved_share(
                _clip(r + (Decimal("0.2") if h else Decimal("-0.2"))), source="sensitivity"
            ),
            econ,
        ),
    )
    i = econ.value("interest_rate")
    row(
        "interest",
        f"{max(ZERO, i - Decimal('0.02')):.1%}",
        f"{i + Decimal('0.02'):.1%}",
        lambda h: (
            ops,
            econ.override(
                {"interest_rate": max(ZERO, i + (Decimal("0.02") if h else Decimal("-0.02")))},
                kind="override",
            ),
        ),
    )
    return sorted(rows, key=lambda s: s.swing, reverse=True)

"""Discounted-cash-flow arithmetic in exact decimals: NPV, IRR, payback and peak funding.

Conventions (the tests work them out by hand): `flows[t]` is the net cash of period t+1, received at
its end, so `npv(r, flows) = Σ flows[t] / (1 + r)^(t+1)`; the IRR is the rate where that is zero. Payback
is the time, in periods from the start, at which cumulative cash first climbs back to zero (linear
within the period); peak funding is the deepest point of cumulative cash: what must be raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext

ZERO = Decimal(0)
ONE = Decimal(1)
_IRR_LOW = Decimal("-0.99")
_IRR_HIGH = Decimal(100)
_IRR_STEPS = 200


def npv(rate: Decimal, flows: Sequence[Decimal]) -> Decimal:
    """Net present value at `rate` per period of end-of-period `flows`."""
    if rate <= -ONE:
        raise ValueError("a discount rate must be above -100 %")
    with localcontext() as ctx:
        ctx.prec = 40
        total = ZERO
        factor = ONE
        for flow in flows:
            factor *= ONE + rate
            total += flow / factor
    return +total


def irr(flows: Sequence[Decimal]) -> Decimal | None:
    """The internal rate of return: the rate in (-99 %, 10,000 %) at which `npv` is zero.

    None when the flows never change sign or NPV has the same sign at both ends of that range (no
    return can be stated). With several sign changes the root found is the one bisection brackets
    first from the low end (scanning upwards), which is the conventional project IRR."""
    if not any(f < 0 for f in flows) or not any(f > 0 for f in flows):
        return None
    grid = [_IRR_LOW, Decimal("-0.5"), ZERO, Decimal("0.1"), Decimal("0.5"), ONE, Decimal(10), _IRR_HIGH]
    values = [npv(r, flows) for r in grid]
    for i in range(len(grid) - 1):
        lo, hi, f_lo, f_hi = grid[i], grid[i + 1], values[i], values[i + 1]
        if f_lo == 0:
            return lo
        if (f_lo < 0) != (f_hi < 0):
            return _bisect(flows, lo, hi, f_lo)
    return _IRR_HIGH if values[-1] == 0 else None


def _bisect(flows: Sequence[Decimal], lo: Decimal, hi: Decimal, f_lo: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        for _ in range(_IRR_STEPS):
            mid = (lo + hi) / 2
            f_mid = npv(mid, flows)
            if f_mid == 0:
                return mid
            if (f_mid < 0) == (f_lo < 0):
                lo, f_lo = mid, f_mid
            else:
                hi = mid
            if hi - lo < Decimal("1e-24"):
                break
    return +((lo + hi) / 2)


def cumulative(flows: Sequence[Decimal]) -> list[Decimal]:
    out: list[Decimal] = []
    running = ZERO
    for flow in flows:
        running += flow
        out.append(running)
    return out


def payback_periods(flows: Sequence[Decimal]) -> Decimal | None:
    """Periods from the start until cumulative cash is back to zero after going negative.

    0 when it never goes negative; None when it never comes back. Within the period of the crossing
    the cash is taken to arrive evenly, so the answer is fractional."""
    running = ZERO
    was_negative = False
    for t, flow in enumerate(flows):
        before = running
        running += flow
        if running < 0:
            was_negative = True
        elif was_negative:
            return Decimal(t) + (-before / flow)
    return ZERO if not was_negative else None


def peak_funding(flows: Sequence[Decimal]) -> Decimal:
    """The most cash ever out of pocket: -min(cumulative cash), or 0 if it never goes negative."""
    return max([ZERO, *(-c for c in cumulative(flows))])

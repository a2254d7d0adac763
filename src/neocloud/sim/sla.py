"""SLA credits on reserved capacity, the same rule in both engines.

Per contract and calendar month (within the horizon): availability = 1 − downtime GPU-seconds /
contracted GPU-seconds; the credit is the deepest tier's share (scenario `sla.tiers`, by default Nebius's
10 % below 99.9 % and 25 % below 95 %) of that contract's reserved revenue for the month, capped at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def credit_share(availability: float, tiers: tuple[tuple[float, Decimal], ...]) -> Decimal:
    share = Decimal(0)
    for below, credit in tiers:
        if availability < below:
            share = max(share, credit)
    return share


def credit_lines(
    model: Any, revenue: Mapping[tuple[int, str], Decimal]
) -> list[tuple[int, str, float, Decimal]]:
    """(contract, month, availability, credit) for every contract-month with a credit."""
    down: dict[tuple[int, str], float] = {}
    for contract, start, end, gpus in model.downtimes:
        c = model.scenario.reserved[contract]
        until = min(end, model.horizon, (c.start_day + c.term_days) * 86400)  # only the contract's window
        for month, lo, hi in model.months(start, until):
            down[(contract, month)] = down.get((contract, month), 0.0) + gpus * (hi - lo)
    out = []
    for i, c in enumerate(model.scenario.reserved):
        start = c.start_day * 86400
        end = min(model.horizon, (c.start_day + c.term_days) * 86400)
        for month, lo, hi in model.months(start, end):
            contracted = c.gpus * (hi - lo)
            lost = down.get((i, month), 0.0)
            if contracted <= 0 or lost <= 0:
                continue
            availability = 1 - lost / contracted
            share = credit_share(availability, model.scenario.sla.tiers)
            amount = revenue.get((i, month), Decimal(0))
            credit = model.money(min(amount, amount * share))
            if credit > 0:
                out.append((i, month, availability, credit))
    return out


def credits(model: Any, revenue: Mapping[tuple[int, str], Decimal]) -> Decimal:
    return sum((line[3] for line in credit_lines(model, revenue)), Decimal(0))

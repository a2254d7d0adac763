"""Overrides from the command line (`--set NAME=VALUE`, sweep grids): the one place they are applied.

Names are the economics inputs (`Economics.defaults()`, e.g. `electricity_price`, `pue`,
`gpu_capex_GB200`) plus the operations levers `utilisation` (fraction of GPU-hours sold), `price`
(average realised USD per sold GPU-hour) and `reserved_share` (the contract mix). An unknown name or a
bad value is an InvalidInput naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from neocloud.kernel.errors import InvalidInput
from neocloud.plan.economics import Economics, is_gpu_capex
from neocloud.plan.operations import Operations

OPERATIONS_LEVERS = ("utilisation", "price", "reserved_share")


def parse_pairs(pairs: Iterable[str], *, option: str = "--set") -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidInput(f"{option} {pair!r}: expected NAME=VALUE", details={"field": option})
        out[name.strip()] = value.strip()
    return out


def known_names(econ: Economics) -> list[str]:
    return sorted([*econ, *OPERATIONS_LEVERS])


def check_names(names: Iterable[str], econ: Economics) -> None:
    known = known_names(econ)
    for name in names:
        if name not in known and not is_gpu_capex(name):
            raise InvalidInput(
                f"unknown input {name!r}; known: {', '.join(known)}", details={"field": name, "known": known}
            )


def apply(ops: Operations, econ: Economics, overrides: Mapping[str, str]) -> tuple[Operations, Economics]:
    """`ops` and `econ` with `overrides` applied (operations levers last: price, mix, utilisation)."""
    check_names(overrides, econ)
    econ = econ.override({k: v for k, v in overrides.items() if k not in OPERATIONS_LEVERS})
    if "price" in overrides:
        ops = ops.with_price(overrides["price"])
    if "reserved_share" in overrides:
        ops = ops.with_reserved_share(overrides["reserved_share"])
    if "utilisation" in overrides:
        ops = ops.with_utilisation(overrides["utilisation"])
    return ops, econ

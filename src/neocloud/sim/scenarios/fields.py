"""Field validators of scenario files: each error is an InvalidInput naming the field
(`details["field"]`, e.g. "demand.on_demand.share")."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from neocloud.kernel.errors import InvalidInput


def bad(path: str, message: str, value: Any = None) -> InvalidInput:
    details: dict[str, Any] = {"field": path}
    if value is not None:
        details["value"] = value if isinstance(value, int | float | str | bool) else repr(value)
    return InvalidInput(f"scenario field {path}: {message}", details=details)


def mapping(raw: Any, path: str, known: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise bad(path or "(top level)", f"must be a mapping, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise bad(where, f"unknown field; known: {', '.join(known)}")
    return dict(raw)


def number(raw: Any, path: str, lo: float, hi: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or math.isnan(raw):
        raise bad(path, f"must be a number, got {raw!r}", raw)
    if not lo <= raw <= hi:
        raise bad(path, f"must be in {lo}..{hi}, got {raw}", raw)
    return float(raw)


def positive(raw: Any, path: str, hi: float = 3650.0) -> float:
    value = number(raw, path, 0.0, hi)
    if value <= 0:
        raise bad(path, f"must be > 0, got {raw}", raw)
    return value


def choice(raw: Any, known: tuple[str, ...], path: str) -> str:
    if raw not in known:
        raise bad(path, f"must be one of {', '.join(known)}, got {raw!r}", raw)
    return str(raw)


def text(raw: Any, path: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise bad(path, f"must be a non-empty string, got {raw!r}", raw)
    return raw.strip()

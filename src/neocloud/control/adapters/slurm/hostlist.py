"""Slurm hostlist expressions: `gpu-[01-04],r1-n1` ⇄ names. Linear in the number of names, so a
100k-node fleet compresses in well under a second."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TAIL = re.compile(r"^(.*?)(\d+)$")
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def slurm_name(name: str) -> str:
    """`name` as a Slurm node, switch or block name: letters, digits, `_ . -` (others become `-`)."""
    if _VALID.match(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", name)
    return cleaned if cleaned and cleaned[0].isalnum() else f"n{cleaned}"


def compress(names: Iterable[str]) -> str:
    """One hostlist expression for `names`, in their order: runs of a prefix with consecutive numbers of
    the same width become `prefix[a-b]` (several runs of one prefix share the brackets)."""
    groups: list[tuple[str, int, list[tuple[int, int]]]] = []  # (prefix, zero-padded width, ranges)
    last: dict[str, int] = {}  # prefix → its latest group
    for name in names:
        m = _TAIL.match(name)
        if m is None or "[" in name:
            groups.append((name, -1, []))
            continue
        prefix, digits = m.group(1), m.group(2)
        value = int(digits)
        padded = len(digits) > 1 and digits.startswith("0")
        at = last.get(prefix)
        if at is not None:
            width = groups[at][1]
            fits = len(digits) == width if padded else len(digits) >= width
            if fits:
                ranges = groups[at][2]
                lo, hi = ranges[-1]
                if value == hi + 1:
                    ranges[-1] = (lo, value)
                elif not lo <= value <= hi:
                    ranges.append((value, value))
                continue
        last[prefix] = len(groups)
        groups.append((prefix, len(digits) if padded else 0, [(value, value)]))
    parts: list[str] = []
    for prefix, width, ranges in groups:
        if not ranges:
            parts.append(prefix)
            continue
        if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
            parts.append(f"{prefix}{ranges[0][0]:0{width}d}")
            continue
        body = ",".join(
            f"{lo:0{width}d}" if lo == hi else f"{lo:0{width}d}-{hi:0{width}d}" for lo, hi in ranges
        )
        parts.append(f"{prefix}[{body}]")
    return ",".join(parts)


def expand(expression: str) -> list[str]:
    """The names of a hostlist expression (`a[1-3,5],b` → a1 a2 a3 a5 b); the inverse of `compress`."""
    out: list[str] = []
    for part in _split_top(expression):
        m = re.match(r"^(.*?)\[([^\]]+)\](.*)$", part)
        if m is None:
            if part:
                out.append(part)
            continue
        prefix, body, rest = m.groups()
        for item in body.split(","):
            lo, _, hi = item.partition("-")
            width = len(lo) if lo.startswith("0") else 0
            for value in range(int(lo), int(hi or lo) + 1):
                out.extend(f"{prefix}{value:0{width}d}{tail}" for tail in (expand(rest) or [""]))
    return out


def _split_top(expression: str) -> list[str]:
    """Split on commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(expression):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(expression[start:i])
            start = i + 1
    parts.append(expression[start:])
    return [p.strip() for p in parts if p.strip()]

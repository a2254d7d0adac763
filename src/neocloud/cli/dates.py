"""Instants given on the command line: the one parser behind every date flag (`--start`, `--from`, `--to`).

A plain date (`2030-01-01`) is 00:00 UTC that day; an ISO 8601 date-time with `Z` or an offset is
converted to UTC; a date-time without either is taken as UTC; `now` and `+N` with a unit (`+30m`, `+2h`,
`+3d`) count from this machine's clock, in whole seconds. Years outside the kernel's
EARLIEST_YEAR..LATEST_YEAR are refused, and so are fractions of a second (billing time is whole seconds).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from neocloud.cli.output import fail
from neocloud.kernel.periods import EARLIEST_YEAR, LATEST_YEAR

EXAMPLE = "+2h, 2030-01-01 or 2030-01-01T09:00:00Z"
INSTANT_HELP = "+30m, +2h, +3d (from now), a date (00:00 UTC) or an ISO 8601 date-time, UTC unless it ends in Z or an offset"
RELATIVE = re.compile(r"\+(\d{1,6})([mhd])")
UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


class BadInstant(ValueError):
    """Why a text is not an instant the CLI accepts (the reason only: the caller names the flag)."""


def parse_instant(text: str, now: datetime | None = None) -> datetime:
    """The UTC instant `text` names, by the rules of the module docstring (relative forms count from
    `now`, default the system clock); BadInstant otherwise."""
    relative = RELATIVE.fullmatch(text.strip())
    if relative or text.strip() == "now":
        start = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        at = start + int(relative.group(1)) * UNITS[relative.group(2)] if relative else start
        if not EARLIEST_YEAR <= at.year <= LATEST_YEAR:
            raise BadInstant(f"{text!r}: the year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
        return at
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInstant(f"{text!r} is not a date or an ISO 8601 date-time") from None
    if not EARLIEST_YEAR <= at.year <= LATEST_YEAR:
        raise BadInstant(f"{text!r}: the year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if not EARLIEST_YEAR <= at.year <= LATEST_YEAR:
        raise BadInstant(
            f"{text!r} is in {at.year} UTC: the year must be between {EARLIEST_YEAR} and {LATEST_YEAR}"
        )
    if at.microsecond:
        raise BadInstant(f"{text!r} has a fraction of a second: give whole seconds")
    return at


def instant(text: str | None, option: str) -> datetime | None:
    """The instant `text` names (None for None); otherwise a CLI error naming `option` once, with an
    example of what is accepted."""
    if text is None:
        return None
    from rich.markup import escape

    try:
        return parse_instant(text)
    except BadInstant as err:
        raise fail(escape(f"{option}: {err} (e.g. {EXAMPLE})")) from None

"""Billing periods and time spans: half-open `[start, end)` intervals of tz-aware UTC datetimes, whole
seconds, calendar months, and the cutting of spans at a fixed grid so that periods close exactly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from neocloud.kernel.errors import InvalidInput

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
SECONDS_PER_DAY: Final = 86_400
EARLIEST_YEAR: Final = 2000
LATEST_YEAR: Final = 2200
"""Instants and periods outside these years are refused as input (they are typos or probes, and near
the ends of `datetime`'s range converting them between time zones overflows)."""


def require_utc(at: datetime, field: str) -> datetime:
    """`at` if it is timezone-aware UTC; InvalidInput naming `field` otherwise. The one UTC check."""
    if at.tzinfo is None or at.utcoffset() != timedelta(0):
        raise InvalidInput(
            f"{field}: must be a timezone-aware UTC datetime", details={"field": field, "value": str(at)}
        )
    return at


def require_utc_second(at: datetime, field: str) -> datetime:
    """`at` if it is timezone-aware UTC with whole seconds (billing time); InvalidInput otherwise."""
    require_utc(at, field)
    if at.microsecond:
        raise InvalidInput(
            f"{field}: billing time is in whole seconds", details={"field": field, "value": str(at)}
        )
    return at


def parse_instant(text: str, field: str) -> datetime:
    """An ISO 8601 instant; a naive one is refused rather than guessed."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{field}: {text!r} is not an ISO 8601 datetime", details={"field": field}
        ) from None
    return require_utc_second(at.astimezone(UTC) if at.tzinfo else at, field)


def to_epoch(at: datetime) -> int:
    return int((at - EPOCH).total_seconds())


def from_epoch(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Period:
    """`[start, end)`, both UTC with whole seconds, start before end."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_utc_second(self.start, "period.start")
        require_utc_second(self.end, "period.end")
        if self.end <= self.start:
            raise InvalidInput(
                "period: end must be after start", details={"start": str(self.start), "end": str(self.end)}
            )

    @staticmethod
    def month(year: int, month: int) -> Period:
        """The calendar month; InvalidInput outside EARLIEST_YEAR..LATEST_YEAR or for a month not 1..12."""
        if not EARLIEST_YEAR <= year <= LATEST_YEAR or not 1 <= month <= 12:
            raise InvalidInput(
                f"period: {year:04d}-{month:02d} is not a month between {EARLIEST_YEAR} and {LATEST_YEAR}",
                details={"field": "period", "value": f"{year:04d}-{month:02d}"},
            )
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return Period(start, end)

    @staticmethod
    def parse_month(text: str) -> Period:
        """ "2026-11" → November 2026."""
        match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise InvalidInput(f"period: {text!r} is not YYYY-MM", details={"field": "period", "value": text})
        return Period.month(int(match.group(1)), int(match.group(2)))

    @staticmethod
    def month_of(at: datetime) -> Period:
        return Period.month(at.year, at.month)

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    def label(self) -> str:
        if self == Period.month_of(self.start):
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    def overlap_seconds(self, start: datetime, end: datetime) -> int:
        lo, hi = max(self.start, start), min(self.end, end)
        return max(0, int((hi - lo).total_seconds()))

    def months(self) -> Iterator[Period]:
        """The calendar months this period touches."""
        month = Period.month_of(self.start)
        while month.start < self.end:
            yield month
            month = Period.month_of(month.end)


def check_grid(grid_seconds: int) -> int:
    """A metering grid must divide a day, so that every day (and every month) starts on a cell edge."""
    if grid_seconds <= 0 or SECONDS_PER_DAY % grid_seconds:
        raise InvalidInput(
            f"grid_seconds: must divide {SECONDS_PER_DAY} (got {grid_seconds})",
            details={"field": "grid_seconds", "value": grid_seconds},
        )
    return grid_seconds


def floor_to_grid(at_epoch: int, grid_seconds: int) -> int:
    return at_epoch - at_epoch % grid_seconds


def cut_at_grid(start: int, end: int, grid_seconds: int) -> Iterator[tuple[int, int]]:
    """`[start, end)` in epoch seconds, cut at every multiple of `grid_seconds`: no gap, no overlap."""
    t = start
    while t < end:
        stop = min(end, floor_to_grid(t, grid_seconds) + grid_seconds)
        yield t, stop
        t = stop

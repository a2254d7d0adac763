"""The SQL stores' `booked`: the bookings a decision reads, as columns. The rows are read as
`bookings()` reads them (one query over the window) and turned into columns, so a SQL store answers
exactly as it did when admission walked the booking objects itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from neocloud.control.domain.allocations import GpuBooking
from neocloud.control.domain.booked import BookedGpus


class _ReadsBookings(Protocol):
    def bookings(
        self, model: str, start: datetime, end: datetime | None, nodes: Sequence[str] | None = None
    ) -> list[GpuBooking]: ...


class BookedRows:
    """Mixed into the SQL unit of work beside the row classes that read bookings."""

    def booked(self: _ReadsBookings, model: str, start: datetime, end: datetime | None) -> BookedGpus:
        return BookedGpus.of(self.bookings(model, start, end))

"""The build schedule: facility megawatts coming online, quarter by quarter."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.money import parse_decimal


@dataclass(frozen=True, slots=True)
class BuildSchedule:
    """`mw_per_quarter[q]` MW of facility power are built in quarter q (q = 0 is Q1 of `start_year`);
    a tranche's capex is paid in that quarter and it earns from the next one."""

    start_year: int
    mw_per_quarter: tuple[Decimal, ...]
    source: str

    @staticmethod
    def even(total_mw: Decimal, quarters: int, start_year: int, source: str) -> BuildSchedule:
        if quarters < 1:
            raise InvalidInput("build_quarters: must be at least 1", details={"field": "build_quarters"})
        step = total_mw / quarters
        return BuildSchedule(start_year, tuple(step for _ in range(quarters)), source)

    @staticmethod
    def parse(text: str, start_year: int, facility_mw: Decimal) -> BuildSchedule:
        """ "125,125,250,…" MW per quarter; the total may not exceed the fleet's facility power."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise InvalidInput(
                "schedule: give MW per quarter, e.g. 250,250,250,250", details={"field": "schedule"}
            )
        mws = tuple(parse_decimal(p, field="schedule") for p in parts)
        schedule = BuildSchedule(start_year, mws, f"given: {text}")
        schedule.check(facility_mw)
        return schedule

    @property
    def total_mw(self) -> Decimal:
        return sum(self.mw_per_quarter, Decimal(0))

    def check(self, facility_mw: Decimal) -> None:
        if self.total_mw > facility_mw * Decimal("1.000001"):
            raise InvalidInput(
                f"schedule: {self.total_mw} MW is more than the fleet's {facility_mw:.1f} MW of facility power",
                details={"field": "schedule", "total_mw": str(self.total_mw)},
            )

    def as_rows(self) -> list[tuple[str, Decimal, Decimal]]:
        """(quarter label, MW built that quarter, MW built so far)."""
        out: list[tuple[str, Decimal, Decimal]] = []
        running = Decimal(0)
        for q, mw in enumerate(self.mw_per_quarter):
            running += mw
            out.append((f"{self.start_year + q // 4}Q{q % 4 + 1}", mw, running))
        return out

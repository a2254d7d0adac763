"""Placement decision latency: the time a decision spends in the placer (no database reads, no
persistence), one observation per decision, by product. The metrics adapter (`api/routers/metrics.py`)
reads `PlacementTimings.snapshot()` at scrape time as the `neocloud_placement_decision_seconds`
histogram; nothing here does I/O.

- An admission is one decision however many claim rounds it took (`control/app/admit.py`): the
  placer's time summed over its rounds, labelled by product (reserved, on-demand, spot).
- A replacement that moves an allocation's nodes to another NVLink domain (`replacement.py`,
  `move_domain`) is a decision labelled `replacement`. A swap onto a listed spare calls no placer
  (it walks the health context's candidates, each a store read), so it is not observed.

    timed = TimedPlacer(deps.placer)
    verdict = decide(uow, timed, ...)   # may call the placer several times
    deps.placement_timings.observe("reserved", timed.seconds)
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from neocloud.fleet.capacity import Capacity
from neocloud.placement.framework import Placer, Verdict
from neocloud.placement.request import Request

REPLACEMENT = "replacement"  # the product label of replacement decisions

# Seconds: a decision on the demo fleet takes ≈0.1 ms, on 100k nodes tens of ms.
BUCKETS: tuple[float, ...] = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class TimedPlacer:
    """A placer that adds the time of each `place` call to `seconds` (a decision may call it several
    times: several windows, several domains of a shape)."""

    inner: Placer
    seconds: float = 0.0

    def place(self, req: Request, cap: Capacity, rng: random.Random) -> Verdict:
        started = time.perf_counter()
        try:
            return self.inner.place(req, cap, rng)
        finally:
            self.seconds += time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class HistogramSnapshot:
    buckets: tuple[tuple[float, int], ...]  # (upper edge, cumulative count), +Inf excluded
    count: int
    total: float


@dataclass
class PlacementTimings:
    """Cumulative histogram counts per product, safe across the server's threads."""

    _counts: dict[str, list[int]] = field(default_factory=dict)
    _totals: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, product: str, seconds: float) -> None:
        with self._lock:
            counts = self._counts.setdefault(product, [0] * (len(BUCKETS) + 1))
            for i, edge in enumerate(BUCKETS):
                if seconds <= edge:
                    counts[i] += 1
            counts[-1] += 1
            self._totals[product] = self._totals.get(product, 0.0) + seconds

    def snapshot(self) -> dict[str, HistogramSnapshot]:
        with self._lock:
            return {
                product: HistogramSnapshot(
                    tuple(zip(BUCKETS, counts[:-1], strict=True)), counts[-1], self._totals[product]
                )
                for product, counts in sorted(self._counts.items())
            }

"""Metering: from allocation lifecycle events to an append-only ledger of usage intervals.

Billing rules (what an allocation's events make billable):
- on-demand and spot: from the first move to `active` until the first terminal state (`ended`, `failed`,
  `preempted`, `cancelled`); `ending` still bills. A preempted spot instance stops billing at preemption.
- reserved: the reserved window `[window_start, window_end)`, used or not; the latest window an event
  carries wins, so an extension bills the longer window. Cancellation policy: a reservation that reaches
  a terminal state (cancelled, failed, ...) before its window starts bills nothing; at or after the
  start the whole window stays billed (it is a commitment).
- `failed` after usage began records an `Incident` (a node failed while allocated); billing follows the
  rules above and a later health decision credits it (`Credit` in invoices).

Settling: usage is written to the ledger only once it is final. For an allocation still running at
`until`, the ledger covers its usage up to the last grid edge at or before `until` (the grid divides a
day, so months close on an edge); a finished allocation is written in full. What is already in the ledger
is subtracted first, so metering again with the same events adds nothing, and every entry has a
deterministic id `allocation@start`. Entries never span a grid edge: no gap, no overlap, no lost second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from neocloud.billing.domain.pricing import parse_product
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.ids import AllocationId, ProjectId, TenantId
from neocloud.kernel.money import MILLI_PER_GPU, GpuTime
from neocloud.kernel.periods import (
    check_grid,
    cut_at_grid,
    floor_to_grid,
    from_epoch,
    require_utc_second,
    to_epoch,
)
from neocloud.kernel.products import Product, State

TERMINAL: Final = frozenset({State.ENDED, State.FAILED, State.PREEMPTED, State.CANCELLED})


@dataclass(frozen=True, slots=True, kw_only=True)
class LifecycleEvent:
    """One allocation transition, as billing needs it; the control plane's event rows map onto this.

    `gpus` whole GPUs, or one GPU shared at `milli_per_gpu` (< 1000). `window_start`/`window_end` are
    the reserved window (set on reserved events; a later one extends it). `term_months` is the reserved
    term priced (None: the listed term the window is closest to).
    """

    allocation_id: AllocationId
    tenant_id: TenantId
    project_id: ProjectId
    product: Product
    model: str
    gpus: int
    milli_per_gpu: int = MILLI_PER_GPU
    to_state: State
    at: datetime
    window_start: datetime | None = None
    window_end: datetime | None = None
    term_months: int | None = None

    def __post_init__(self) -> None:
        if not self.allocation_id or not self.tenant_id or not self.project_id:
            raise InvalidInput(
                "event: allocation_id, tenant_id and project_id are required",
                details={"field": "allocation_id"},
            )
        object.__setattr__(self, "product", parse_product(str(self.product)))
        object.__setattr__(self, "to_state", _state(str(self.to_state)))
        object.__setattr__(self, "model", gpu_model(self.model).name)
        if self.gpus < 1:
            raise InvalidInput(
                f"gpus: must be >= 1 (got {self.gpus})", details={"field": "gpus", "value": self.gpus}
            )
        if not 0 < self.milli_per_gpu <= MILLI_PER_GPU:
            raise InvalidInput("milli_per_gpu: must be in 1..1000", details={"field": "milli_per_gpu"})
        if self.milli_per_gpu < MILLI_PER_GPU and self.gpus != 1:
            raise InvalidInput(
                "milli_per_gpu: a shared GPU allocation has exactly one GPU", details={"field": "gpus"}
            )
        require_utc_second(self.at, "at")
        if (self.window_start is None) != (self.window_end is None):
            raise InvalidInput(
                "window: give both window_start and window_end, or neither", details={"field": "window_end"}
            )
        if self.window_start is not None and self.window_end is not None:
            require_utc_second(self.window_start, "window_start")
            require_utc_second(self.window_end, "window_end")
            if self.window_end <= self.window_start:
                raise InvalidInput("window_end: must be after window_start", details={"field": "window_end"})


def _state(value: str) -> State:
    try:
        return State(value)
    except ValueError:
        raise InvalidInput(
            f"to_state: unknown allocation state {value!r}",
            details={"field": "to_state", "value": value, "known": [s.value for s in State]},
        ) from None


@dataclass(frozen=True, slots=True)
class UsageEntry:
    """One ledger row: `gpus` x `milli_per_gpu` of `model` used over `[start, end)`."""

    id: str
    tenant_id: TenantId
    project_id: ProjectId
    allocation_id: AllocationId
    model: str
    product: Product
    term_months: int | None
    start: datetime
    end: datetime
    gpus: int
    milli_per_gpu: int

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    @property
    def gpu_time(self) -> GpuTime:
        return GpuTime.of(self.gpus, self.milli_per_gpu, self.seconds)

    def clipped_gpu_time(self, start: datetime, end: datetime) -> GpuTime:
        """GPU time of the part of this entry inside `[start, end)` (usage is uniform over an entry)."""
        lo, hi = max(self.start, start), min(self.end, end)
        seconds = max(0, int((hi - lo).total_seconds()))
        return GpuTime.of(self.gpus, self.milli_per_gpu, seconds)


@dataclass(frozen=True, slots=True)
class Incident:
    """A node failed while allocated: recorded so that a health decision can credit it later."""

    id: str
    allocation_id: AllocationId
    tenant_id: TenantId
    project_id: ProjectId
    model: str
    product: Product
    gpus: int
    milli_per_gpu: int
    at: datetime
    kind: str = "node-failed"


@dataclass(frozen=True, slots=True)
class AllocationUsage:
    """What one allocation's events make billable, in epoch seconds: `[start, end)`, `end` None while an
    on-demand or spot allocation is still running."""

    first: LifecycleEvent
    start: int | None
    end: int | None
    terminal: bool
    term_months: int | None
    incidents: tuple[Incident, ...] = ()

    def span(self, until: int, *, settled: bool, grid_seconds: int) -> tuple[int, int] | None:
        """The billable span known at `until`: all of it once terminal; else up to `until`, or only to
        the last grid edge when `settled` (what may be written to the ledger)."""
        if self.start is None:
            return None
        if self.terminal:
            assert self.end is not None
            stop = self.end
        else:
            horizon = floor_to_grid(until, grid_seconds) if settled else until
            stop = horizon if self.end is None else min(self.end, horizon)
        return (self.start, stop) if stop > self.start else None


def nearest_term(window_seconds: int, terms: Sequence[int]) -> int:
    """The listed term (months of 30.44 days) closest to a reserved window's length."""
    months = window_seconds / (30.44 * 86_400)
    return min(terms, key=lambda t: (abs(t - months), t))


def allocation_usage(events: Sequence[LifecycleEvent], until: int, terms: Sequence[int]) -> AllocationUsage:
    """Apply the billing rules of the module docstring to one allocation's events (at most `until`)."""
    ordered = sorted((e for e in events if to_epoch(e.at) <= until), key=lambda e: e.at)
    if not ordered:
        raise InvalidInput("allocation_usage: no events", details={"field": "events"})
    first = ordered[0]
    active_at: int | None = None
    stop_at: int | None = None
    stop_state: State | None = None
    window: tuple[int, int] | None = None
    term = first.term_months
    for event in ordered:
        if (event.tenant_id, event.model, event.product, event.gpus, event.milli_per_gpu) != (
            first.tenant_id,
            first.model,
            first.product,
            first.gpus,
            first.milli_per_gpu,
        ):
            raise InvalidInput(
                f"allocation {first.allocation_id}: an event changes tenant, model, product or size",
                details={"field": "allocation_id", "value": first.allocation_id},
            )
        if stop_state is not None:
            continue  # nothing after a terminal state changes the bill
        if event.window_start is not None and event.window_end is not None:
            window = (to_epoch(event.window_start), to_epoch(event.window_end))
        if event.term_months is not None:
            term = event.term_months
        at = to_epoch(event.at)
        if event.to_state is State.ACTIVE and active_at is None:
            active_at = at
        if event.to_state in TERMINAL:
            stop_at, stop_state = at, event.to_state
    terminal = stop_state is not None
    incidents: tuple[Incident, ...] = ()
    end: int | None
    if first.product is Product.RESERVED:
        if window is None and active_at is None:
            return AllocationUsage(first, None, None, terminal, None)  # not booked yet: nothing to bill
        if window is None:
            raise InvalidInput(
                f"allocation {first.allocation_id}: a reserved allocation's events carry no window",
                details={"field": "window_start", "allocation_id": first.allocation_id},
            )
        began = stop_at is None or stop_at >= window[0]
        if not began:
            return AllocationUsage(first, None, None, True, None)
        term = term if term is not None else nearest_term(window[1] - window[0], terms)
        start, end = window
    else:
        term = None
        if active_at is None:
            return AllocationUsage(first, None, None, terminal, None)
        start, end = active_at, stop_at
    if stop_state is State.FAILED and stop_at is not None:
        incidents = (
            Incident(
                f"{first.allocation_id}:failed@{stop_at}",
                first.allocation_id,
                first.tenant_id,
                first.project_id,
                first.model,
                first.product,
                first.gpus,
                first.milli_per_gpu,
                from_epoch(stop_at),
            ),
        )
    return AllocationUsage(first, start, end, terminal, term, incidents)


def subtract(span: tuple[int, int], taken: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of `span` not covered by any of `taken`."""
    pieces = [span]
    for lo, hi in sorted(taken):
        nxt: list[tuple[int, int]] = []
        for a, b in pieces:
            if hi <= a or lo >= b:
                nxt.append((a, b))
                continue
            if a < lo:
                nxt.append((a, lo))
            if hi < b:
                nxt.append((hi, b))
        pieces = nxt
    return pieces


@dataclass(frozen=True, slots=True)
class MeterResult:
    entries: list[UsageEntry] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


def coverage(entries: Iterable[UsageEntry]) -> dict[AllocationId, list[tuple[int, int]]]:
    """What ledger entries cover, per allocation, as epoch-second spans."""
    out: dict[AllocationId, list[tuple[int, int]]] = {}
    for entry in entries:
        out.setdefault(entry.allocation_id, []).append((to_epoch(entry.start), to_epoch(entry.end)))
    return out


def group_events(events: Iterable[LifecycleEvent]) -> dict[AllocationId, list[LifecycleEvent]]:
    grouped: dict[AllocationId, list[LifecycleEvent]] = {}
    for event in events:
        grouped.setdefault(event.allocation_id, []).append(event)
    return grouped


def meter(
    events: Iterable[LifecycleEvent],
    covered: Mapping[AllocationId, Sequence[tuple[int, int]]],
    until: datetime,
    *,
    terms: Sequence[int],
    grid_seconds: int = 86_400,
    settled: bool = True,
) -> MeterResult:
    """New ledger entries (and incidents) that `events` imply as of `until`, beyond what the ledger
    already `covered` (per allocation, `[start, end)` spans in epoch seconds: see `coverage`).

    With `settled=False` the result also covers running allocations up to `until` exactly: a
    provisional view for previews, never to be written.
    """
    check_grid(grid_seconds)
    horizon = to_epoch(require_utc_second(until, "until"))
    result = MeterResult()
    for allocation_id, allocation_events in group_events(events).items():
        if min(to_epoch(e.at) for e in allocation_events) > horizon:
            continue
        usage = allocation_usage(allocation_events, horizon, terms)
        result.incidents.extend(usage.incidents)
        span = usage.span(horizon, settled=settled, grid_seconds=grid_seconds)
        if span is None:
            continue
        taken = covered.get(allocation_id, ())
        first = usage.first
        for lo, hi in subtract(span, taken):
            for a, b in cut_at_grid(lo, hi, grid_seconds):
                result.entries.append(
                    UsageEntry(
                        f"{allocation_id}@{a}",
                        first.tenant_id,
                        first.project_id,
                        allocation_id,
                        first.model,
                        first.product,
                        usage.term_months,
                        from_epoch(a),
                        from_epoch(b),
                        first.gpus,
                        first.milli_per_gpu,
                    )
                )
    return result

"""Jobs against allocations: which allocation a job ran in, and how many of its GPU-seconds lie outside
every window its tenant held (pure; the numbers an AI lab asks its provider for, and a check that must
come out 0).

A job is in an allocation of its tenant when all its nodes are the allocation's; its GPU-seconds inside
that allocation's held window count for the allocation, the rest are outside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HeldWindow:
    """An allocation's nodes, held over [start, end)."""

    allocation_id: str
    tenant_id: str
    nodes: frozenset[str]
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class JobSpan:
    job_id: str
    tenant_id: str | None
    nodes: frozenset[str]
    gpus: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Attribution:
    job_id: str
    allocation_id: str | None
    gpu_seconds: int  # inside [period start, period end)
    inside_seconds: int  # of those, inside a held window of the job's tenant on its nodes
    outside_seconds: int


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> int:
    return max(0, int((min(a1, b1) - max(a0, b0)).total_seconds()))


def attribute(job: JobSpan, windows: Sequence[HeldWindow], start: datetime, end: datetime) -> Attribution:
    """`job` clipped to [start, end), against its tenant's `windows`."""
    lo, hi = max(job.start, start), min(job.end, end)
    total = job.gpus * _overlap(lo, hi, lo, hi)
    best: str | None = None
    inside = 0
    for w in windows:
        if w.tenant_id != job.tenant_id or not job.nodes or not job.nodes <= w.nodes:
            continue
        seconds = job.gpus * _overlap(lo, hi, w.start, w.end)
        if seconds > inside or best is None:
            best, inside = w.allocation_id, seconds
    inside = min(inside, total)
    return Attribution(job.job_id, best, total, inside, total - inside)


def attribute_all(
    jobs: Iterable[JobSpan], windows: Sequence[HeldWindow], start: datetime, end: datetime
) -> list[Attribution]:
    by_tenant: dict[str | None, list[HeldWindow]] = {}
    for w in windows:
        by_tenant.setdefault(w.tenant_id, []).append(w)
    return [attribute(j, by_tenant.get(j.tenant_id, []), start, end) for j in jobs]

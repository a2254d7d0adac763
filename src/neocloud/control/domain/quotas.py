"""Quotas: the most GPUs of a model a tenant (or one of its projects) may hold at any instant.

Admission asks `check_admission` with what the tenant and project already hold over the asked window;
QuotaExceeded names the model, the limit, what is in use and what was asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from neocloud.kernel.errors import InvalidInput, QuotaExceeded
from neocloud.kernel.ids import ProjectId, TenantId


@dataclass(frozen=True, slots=True)
class Quota:
    """At most `gpus` GPUs of `model` at once for the tenant, or for one project when `project_id` is set."""

    tenant_id: TenantId
    project_id: ProjectId | None
    model: str
    gpus: int

    def __post_init__(self) -> None:
        if self.gpus < 0:
            raise InvalidInput("a quota is a number of GPUs >= 0", details={"gpus": self.gpus})


@dataclass(frozen=True, slots=True)
class Usage:
    """GPUs of one model held at the busiest instant of a window, by the tenant and by the project."""

    tenant_gpus: int
    project_gpus: int


def peak_usage(intervals: Iterable[tuple[float, float, int]]) -> int:
    """The most GPUs held at one instant by intervals (start, end, gpus) over [start, end)."""
    points: list[tuple[float, int]] = []
    for start, end, gpus in intervals:
        points.append((start, gpus))
        points.append((end, -gpus))
    points.sort(key=lambda p: (p[0], p[1]))  # releases before acquisitions at the same instant
    level = peak = 0
    for _, delta in points:
        level += delta
        peak = max(peak, level)
    return peak


def check_admission(quotas: Iterable[Quota], project_id: str, model: str, usage: Usage, asked: int) -> None:
    """Raise QuotaExceeded when `asked` more GPUs would pass the tenant's or the project's quota for
    `model`. No quota for a model means no limit."""
    for q in quotas:
        if q.model != model or (q.project_id is not None and q.project_id != project_id):
            continue
        in_use, scope = (
            (usage.tenant_gpus, "tenant") if q.project_id is None else (usage.project_gpus, "project")
        )
        if in_use + asked > q.gpus:
            raise QuotaExceeded(
                f"{scope} quota for {model} is {q.gpus} GPUs: {in_use} in use, {asked} asked",
                details={"model": model, "limit": q.gpus, "in_use": in_use, "asked": asked, "scope": scope},
            )

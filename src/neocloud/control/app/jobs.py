"""Jobs on the cluster, as neocloud accounts for them: usage by job for a tenant, and the job side of
reconcile for the operator (per-allocation job GPU-seconds; every job GPU-second outside a window its
tenant held, which must be 0). Reads the cluster's accounting (the `JobAccounting` port) outside any
transaction, then the allocations in a short read-only one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from neocloud.control.app.access import tenant_projects
from neocloud.control.app.deps import Deps
from neocloud.control.app.ports import JobRecord, UnitOfWork
from neocloud.control.app.slurm import NO_CLUSTER, cluster_call, tenant_asked
from neocloud.control.domain.allocations import Allocation
from neocloud.control.domain.jobs import Attribution, HeldWindow, JobSpan, attribute_all
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import InvalidInput, NotFound
from neocloud.kernel.periods import require_utc
from neocloud.kernel.products import Product

PAGE = 500


@dataclass(frozen=True, slots=True)
class JobUsageView:
    job_id: str
    name: str
    user: str
    account: str
    project_id: str
    allocation_id: str | None
    nodes: tuple[str, ...]
    gpus: int
    start: datetime
    end: datetime | None
    state: str
    gpu_seconds: int
    outside_seconds: int


@dataclass(frozen=True, slots=True)
class AllocationUtilisation:
    allocation_id: str
    tenant_id: str
    job_gpu_seconds: int


@dataclass(frozen=True, slots=True)
class JobReport:
    """Tenants' jobs of [start, end): per allocation the GPU-seconds its jobs used, and the jobs with
    GPU-seconds outside every window their tenant held (`outside_seconds` their sum: must be 0)."""

    start: datetime
    end: datetime
    jobs: int
    job_gpu_seconds: int
    allocations: list[AllocationUtilisation]
    outside: list[JobUsageView]
    other_jobs: int = 0  # jobs under accounts that are no tenant's here (the site's own)

    @property
    def outside_seconds(self) -> int:
        return sum(j.outside_seconds for j in self.outside)


def held_window(alloc: Allocation, now: datetime) -> HeldWindow | None:
    """The span over which `alloc` held its nodes (None: it never did), widened to whole seconds: the
    cluster's accounting (sacct) records job times to the second."""
    ends = [t for t in (alloc.end, alloc.ended_at, alloc.notice_until) if t is not None]
    end = min(ends) if ends else now
    if not alloc.nodes or end <= alloc.start:
        return None
    start = alloc.start.replace(microsecond=0)
    end = end if end.microsecond == 0 else end.replace(microsecond=0) + timedelta(seconds=1)
    return HeldWindow(alloc.id, alloc.tenant_id, frozenset(alloc.nodes), start, end)


def _allocations(uow: UnitOfWork, tenant_id: str | None) -> list[Allocation]:
    out: list[Allocation] = []
    after: str | None = None
    while True:
        items, _ = uow.list_allocations(tenant_id, list(Product), None, after, PAGE)
        out += items
        if len(items) < PAGE:
            return out
        after = items[-1].id


class JobService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def span(self, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
        """[start, end) with the defaults: to now, from the start of `end`'s month."""
        now = self._deps.clock.now()
        end = require_utc(end, "to") if end is not None else now
        start = (
            require_utc(start, "from")
            if start is not None
            else end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        )
        if end <= start:
            raise InvalidInput(
                "from must be before to", details={"from": start.isoformat(), "to": end.isoformat()}
            )
        return start, end

    def _attributed(
        self, tenant_id: str | None, start: datetime, end: datetime
    ) -> list[tuple[JobRecord, str, Attribution]]:
        source = self._deps.jobs
        if source is None:
            raise NotFound(NO_CLUSTER)
        now = self._deps.clock.now()
        with self._deps.uow(read_only=True) as uow:
            projects = None
            if tenant_id is not None:
                projects = tenant_projects(uow, tenant_id)
            windows = [w for a in _allocations(uow, tenant_id) if (w := held_window(a, now)) is not None]
        with cluster_call():  # outside any transaction
            records = source.jobs(start, end, [p.id for p in projects] if projects is not None else None)
        tenant_of: dict[str, str] = {}
        with self._deps.uow(read_only=True) as uow:
            for pid in {r.project_id for r in records if r.project_id is not None}:
                project = uow.get_project(pid)
                if project is not None:
                    tenant_of[pid] = project.tenant_id
        spans = [
            JobSpan(
                r.job_id, tenant_of.get(r.project_id or ""), frozenset(r.nodes), r.gpus, r.start, r.end or now
            )
            for r in records
        ]
        attributions = attribute_all(spans, windows, start, end)
        return [
            (r, tenant_of.get(r.project_id or "", ""), a) for r, a in zip(records, attributions, strict=True)
        ]

    def usage(
        self,
        principal: Principal,
        start: datetime | None = None,
        end: datetime | None = None,
        tenant: str | None = None,
    ) -> tuple[str, list[JobUsageView]]:
        """The caller's tenant's jobs of [start, end) (default: this month so far), each with its GPU-seconds
        in the span and the allocation it ran in. Operators name the tenant."""
        who = tenant_asked(principal, tenant)
        with self._deps.uow(read_only=True) as uow:
            if uow.get_tenant(who) is None:
                raise NotFound(f"tenant {who!r} not found")
        s, e = self.span(start, end)
        rows = self._attributed(who, s, e)
        return who, [_view(r, a) for r, t, a in rows if t == who]

    def report(self, start: datetime | None = None, end: datetime | None = None) -> JobReport:
        """Every tenant's jobs of [start, end) against the windows their tenants held (operator)."""
        s, e = self.span(start, end)
        rows = self._attributed(None, s, e)
        per: dict[str, AllocationUtilisation] = {}
        for _, tenant_id, a in rows:
            if a.allocation_id is not None and a.inside_seconds:
                was = per.get(a.allocation_id, AllocationUtilisation(a.allocation_id, tenant_id, 0))
                per[a.allocation_id] = AllocationUtilisation(
                    was.allocation_id, was.tenant_id, was.job_gpu_seconds + a.inside_seconds
                )
        mine = [(r, t, a) for r, t, a in rows if t]  # jobs of other accounts (the site's) are not tenants'
        outside = [_view(r, a) for r, _, a in mine if a.outside_seconds]
        return JobReport(
            s,
            e,
            len(mine),
            sum(a.gpu_seconds for _, _, a in mine),
            sorted(per.values(), key=lambda u: u.allocation_id),
            outside,
            len(rows) - len(mine),
        )


def _view(r: JobRecord, a: Attribution) -> JobUsageView:
    return JobUsageView(
        r.job_id,
        r.name,
        r.user,
        r.account,
        r.project_id or "",
        a.allocation_id,
        tuple(r.nodes),
        r.gpus,
        r.start,
        r.end,
        r.state,
        a.gpu_seconds,
        a.outside_seconds,
    )


def utilisation(job_seconds: int, billed_seconds: int) -> str:
    """Job GPU-seconds over billed GPU-seconds, as a decimal string with 4 places ("" when nothing billed)."""
    if billed_seconds <= 0:
        return ""
    return str((Decimal(job_seconds) / Decimal(billed_seconds)).quantize(Decimal("0.0001")))


__all__: Sequence[str] = ["JobReport", "JobService", "JobUsageView", "utilisation"]

"""Slurm: a tenant's Slurm users (tenant-admin) and how to run in an allocation on the cluster. Usage by
job is GET /v1/usage?by=job (billing's route, which hands that grouping to `job_usage` here)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from neocloud.api.deps import Caller, Control
from neocloud.control.app.control import ControlPlane
from neocloud.control.app.slurm import AccessView, SlurmUsersView
from neocloud.control.domain.tenancy import Principal
from neocloud.wire.fields import IDENT_PATTERN
from neocloud.wire.slurm import SlurmAccessOut, SlurmUserCreate, SlurmUsersOut

router = APIRouter(prefix="/slurm", tags=["slurm"])

TenantQuery = Annotated[
    str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="operators: which tenant")
]
UserQuery = Annotated[str, Query(pattern=r"^[a-z_][a-z0-9_-]{0,31}$", description="the Unix login name")]


def _users(view: SlurmUsersView) -> dict[str, Any]:
    return {"tenant": view.tenant_id, "users": view.users}


@router.get("/users", response_model=SlurmUsersOut, summary="The tenant's Slurm users")
def list_users(cp: Control, caller: Caller, tenant: TenantQuery = None) -> dict[str, Any]:
    return _users(cp.slurm.users(caller, tenant))


@router.post(
    "/users",
    status_code=201,
    response_model=SlurmUsersOut,
    summary="Make a Unix user a Slurm user of the tenant's accounts (tenant-admin)",
)
def add_user(
    body: SlurmUserCreate, cp: Control, caller: Caller, tenant: TenantQuery = None
) -> dict[str, Any]:
    return _users(cp.slurm.add_user(caller, body.user, tenant))


@router.delete("/users", response_model=SlurmUsersOut, summary="Remove a Slurm user (tenant-admin)")
def remove_user(user: UserQuery, cp: Control, caller: Caller, tenant: TenantQuery = None) -> dict[str, Any]:
    return _users(cp.slurm.remove_user(caller, user, tenant))


@router.get(
    "/access/{allocation_id}",
    response_model=SlurmAccessOut,
    summary="How to run in a reservation or instance: reservation, account, partition, sbatch/srun (404 without a Slurm cluster)",
)
def access(
    allocation_id: Annotated[str, Path(pattern=IDENT_PATTERN)], cp: Control, caller: Caller
) -> dict[str, Any]:
    view: AccessView = cp.slurm.access(caller, allocation_id)
    return asdict(view)


def job_usage(
    cp: ControlPlane, caller: Principal, start: datetime | None, end: datetime | None, tenant: str | None
) -> dict[str, Any]:
    """The document of GET /v1/usage?by=job."""
    span_start, span_end = cp.jobs.span(start, end)
    who, jobs = cp.jobs.usage(caller, span_start, span_end, tenant)
    return {
        "tenant": who,
        "period": f"{span_start.isoformat()}/{span_end.isoformat()}",
        "by": "job",
        "items": [
            {
                "job_id": j.job_id,
                "name": j.name,
                "user": j.user,
                "account": j.account,
                "project": j.project_id,
                "allocation_id": j.allocation_id,
                "nodes": list(j.nodes),
                "gpus": j.gpus,
                "start": j.start,
                "end": j.end,
                "state": j.state,
                "gpu_seconds": str(j.gpu_seconds),
                "outside_paid_window_seconds": str(j.outside_seconds),
            }
            for j in jobs
        ],
        "total_gpu_seconds": str(sum(j.gpu_seconds for j in jobs)),
    }

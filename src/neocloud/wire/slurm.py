"""Slurm on the wire: a tenant's Slurm users, how to run in an allocation on the cluster, and usage by
job (GET /v1/usage?by=job). GPU time is an exact decimal string of GPU-seconds, as in billing."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True)


class SlurmUserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$", description="a Unix login name on the cluster")


class SlurmUsersOut(_Doc):
    """The Unix users that may run jobs under the tenant's Slurm accounts."""

    tenant: str
    users: list[str]


class SlurmAccessOut(_Doc):
    """How to run in a reservation or instance on the cluster."""

    allocation_id: str
    reservation: str = Field(description="the Slurm reservation (sbatch/srun --reservation)")
    account: str = Field(description="the Slurm account of the allocation's project (--account)")
    partition: str = Field(description="the Slurm partition of its GPU model (--partition)")
    sbatch: str = Field(description="an example sbatch line")
    srun: str = Field(description="an example srun line")


class JobUsageItem(_Doc):
    """One job: its GPUs over [start, end) (end null: running), and its GPU-seconds in the period."""

    job_id: str
    name: str
    user: str
    account: str
    project: str
    allocation_id: str | None = Field(description="the reservation or instance it ran in (null: none)")
    nodes: list[str]
    gpus: int
    start: datetime
    end: datetime | None
    state: str
    gpu_seconds: str
    outside_paid_window_seconds: str = Field(description="GPU-seconds outside every window the tenant held")


class JobUsageOut(_Doc):
    tenant: str
    period: str = Field(description="start/end in ISO 8601")
    by: Literal["job"]
    items: list[JobUsageItem]
    total_gpu_seconds: str

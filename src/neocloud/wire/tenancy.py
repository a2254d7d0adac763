"""Tenants, projects, tokens, quotas and the caller: what the tenancy routes accept and return.

Requests are validated here (names, ids, roles, bounded GPU counts); responses mirror the control
plane's views (TenantView, ProjectView, TokenView, QuotaView, Principal) field by field.
- `WhoAmI.tenant_id` (like `TokenOut.tenant_id`) is null for operators and fleet-wide viewers.
- `TokenOut` never carries the secret, only the prefix that names it; `TokenCreated` carries the bearer
  secret, shown this once. A token with `revoked_at` set, or past its `expires_at`, no longer
  authenticates.
- `TenantOut.suspended_at` is set while the tenant is suspended.
- `QuotaOut` is a tenant's quota, or one project's when `project_id` is set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from neocloud.wire.fields import GpuModelName, Ident, In, Name, Out, UtcDatetime

MAX_GPUS = 1_000_000

Role = Literal["operator", "tenant-admin", "tenant-member", "viewer"]


# ---- requests -----------------------------------------------------------------------------------------


class TenantCreate(In):
    name: Name = Field(description="unique tenant name")


class ProjectCreate(In):
    tenant_id: Ident
    name: Name


class TokenCreate(In):
    tenant: Name | None = Field(
        None, description="tenant name; null for an operator or fleet-wide viewer token"
    )
    role: Role
    project: Ident | None = Field(None, description="project id or name new objects go to")
    expires_at: UtcDatetime | None = Field(
        None, description="when the token stops authenticating (in the future); null: never"
    )


class QuotaSet(In):
    tenant_id: Ident
    model: GpuModelName = Field(description="GPU model, e.g. H100, GB200")
    gpus: int = Field(ge=0, le=MAX_GPUS, description="GPUs the tenant may hold at once", strict=True)
    project_id: Ident | None = None


# ---- responses ----------------------------------------------------------------------------------------


class WhoAmI(Out):
    token_id: str
    tenant_id: str | None
    role: str
    project_id: str | None = None


class TenantOut(Out):
    id: str
    name: str
    created_at: datetime
    suspended_at: datetime | None = Field(
        None, description="set while the tenant is suspended: its tokens read but never write"
    )


class ProjectOut(Out):
    id: str
    tenant_id: str
    name: str
    created_at: datetime


class TokenOut(Out):
    id: str
    tenant_id: str | None
    role: str
    created_at: datetime
    prefix: str
    project_id: str | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class TokenCreated(BaseModel):
    token: TokenOut
    secret: str = Field(description="the bearer secret; shown once, stored hashed")


class QuotaOut(Out):
    tenant_id: str
    project_id: str | None
    model: str
    gpus: int

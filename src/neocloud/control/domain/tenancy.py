"""Identity and tenancy: tenants (organisations), their projects, API tokens and the roles they carry.

A token's secret is shown once; only its sha256 is stored. Tenancy is enforced in the app layer with the
helpers here: a tenant principal never sees another tenant's objects, and another tenant's id answers
NotFound exactly like a missing one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from neocloud.kernel.audit import Actor
from neocloud.kernel.errors import Forbidden, InvalidInput, NotFound
from neocloud.kernel.ids import ProjectId, TenantId

TOKEN_PREFIX = "nc_"
NAME_MAX = 63


class Role(StrEnum):
    """operator: everything; tenant-admin: its tenant (projects, quotas of its projects) plus member rights;
    tenant-member: reserve, start and stop in its tenant; viewer: read its tenant (read everything when
    it belongs to no tenant)."""

    OPERATOR = "operator"
    TENANT_ADMIN = "tenant-admin"
    TENANT_MEMBER = "tenant-member"
    VIEWER = "viewer"

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidInput(f"unknown role {text!r}", details={"known": [r.value for r in cls]}) from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's id, role, tenant (None for operators and fleet-wide viewers) and,
    for project tokens, the project new objects go to. `suspended`: the tenant is suspended (its
    tokens still read, never write); `expires_at`: when the token stops authenticating (None: never)."""

    token_id: str
    role: Role
    tenant_id: TenantId | None = None
    project_id: ProjectId | None = None
    suspended: bool = False
    expires_at: datetime | None = None

    @property
    def actor(self) -> Actor:
        """Who this principal is in the audit trail."""
        return Actor(self.token_id, self.tenant_id)

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR

    @property
    def sees_everything(self) -> bool:
        """Operators, and viewers bound to no tenant, read every tenant's objects."""
        return self.tenant_id is None and self.role in (Role.OPERATOR, Role.VIEWER)

    def can_see(self, tenant_id: str) -> bool:
        return self.sees_everything or self.tenant_id == tenant_id

    def visible(self, tenant_id: str, what: str, ident: str) -> None:
        """NotFound, worded like a missing object, when `tenant_id` is not the caller's."""
        if not self.can_see(tenant_id):
            raise NotFound(f"{what} {ident!r} not found")

    def require_operator(self, action: str) -> None:
        if not self.is_operator:
            raise Forbidden(f"{action} needs the operator role; this token is {self.role.value}")

    def require_active(self, action: str) -> None:
        """Forbidden for every write of a suspended tenant's token (reads still work)."""
        if self.suspended:
            raise Forbidden(
                f"{action}: tenant {self.tenant_id} is suspended; its tokens may read (bills included) "
                "but not change anything until an operator resumes it",
                details={"tenant_id": self.tenant_id, "suspended": True},
            )

    def require_write(self, action: str) -> None:
        """Members, admins and operators may change things; viewers only read; a suspended tenant's
        tokens only read."""
        if self.role is Role.VIEWER:
            raise Forbidden(f"{action}: the viewer role is read only")
        self.require_active(action)

    def require_admin_of(self, tenant_id: str, action: str) -> None:
        if self.is_operator:
            return
        if self.tenant_id != tenant_id:
            raise NotFound(f"tenant {tenant_id!r} not found")
        self.require_active(action)
        if self.role is not Role.TENANT_ADMIN:
            raise Forbidden(f"{action} needs the tenant-admin role; this token is {self.role.value}")


@dataclass(frozen=True, slots=True)
class Tenant:
    """An organisation. A suspended tenant (`suspended_at` set) keeps its objects, and its running
    allocations keep running and billing; its tokens read but never write."""

    id: TenantId
    name: str
    created_at: datetime
    suspended_at: datetime | None = None

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None


@dataclass(frozen=True, slots=True)
class Project:
    id: ProjectId
    tenant_id: TenantId
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Token:
    """A stored API token: the hash of its secret, never the secret. It authenticates until
    `expires_at` (None: no expiry) unless revoked (`revoked_at`)."""

    id: str
    secret_hash: str
    prefix: str
    role: Role
    tenant_id: TenantId | None
    project_id: ProjectId | None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def live_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def principal(self, *, suspended: bool = False) -> Principal:
        return Principal(self.id, self.role, self.tenant_id, self.project_id, suspended, self.expires_at)


def validate_name(kind: str, name: str) -> str:
    """Names are 1..63 characters of letters, digits, '-', '_' and '.', starting with a letter or digit."""
    text = name.strip()
    ok = 0 < len(text) <= NAME_MAX and text[0].isalnum() and all(c.isalnum() or c in "-_." for c in text)
    if not ok:
        raise InvalidInput(
            f"invalid {kind} name {name!r}: use 1-{NAME_MAX} letters, digits, '-', '_' or '.', "
            "starting with a letter or digit",
            details={"field": "name"},
        )
    return text


def make_secret(random_part: str) -> str:
    """The secret shown once to the user: the recognisable prefix plus a random part the caller draws."""
    if len(random_part) < 32:
        raise InvalidInput("a token secret needs at least 32 random characters")
    return TOKEN_PREFIX + random_part


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    """What lists show of a token: enough to recognise it, too little to use it."""
    return secret[: len(TOKEN_PREFIX) + 6]

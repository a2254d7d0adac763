"""The memory unit of work's tenancy tables: tenants, projects, tokens and the auth epoch, the audit
trail and quotas (a part of `MemoryUnitOfWork`, which mixes it in)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol, TypeVar

from neocloud.control.adapters.memory_tables import Tables, Undo
from neocloud.control.domain.quotas import Quota
from neocloud.control.domain.tenancy import Project, Tenant, Token
from neocloud.kernel.audit import AuditEntry, AuditRecord
from neocloud.kernel.errors import Conflict


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_HasId)


def paged(items: list[T], after: str | None, limit: int) -> tuple[list[T], int]:
    rest = sorted((x for x in items if after is None or x.id > after), key=lambda x: x.id)
    return rest[:limit], len(rest)


class TenancyTables:
    """Reads and writes of the tenancy tables, through the unit of work's undo log."""

    _t: Tables
    _undo: Undo

    def add_tenant(self, tenant: Tenant) -> None:
        if self.tenant_by_name(tenant.name) is not None:
            raise Conflict(f"a tenant named {tenant.name!r} already exists")
        self._undo.put(self._t.tenants, tenant.id, tenant)

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        return self._t.tenants.get(tenant_id)

    def tenant_by_name(self, name: str) -> Tenant | None:
        return next((t for t in self._t.tenants.values() if t.name == name), None)

    def list_tenants(
        self, ids: Sequence[str] | None, after: str | None, limit: int
    ) -> tuple[list[Tenant], int]:
        items = [t for t in self._t.tenants.values() if ids is None or t.id in ids]
        return paged(items, after, limit)

    def add_project(self, project: Project) -> None:
        if self.project_by_name(project.tenant_id, project.name) is not None:
            raise Conflict(f"a project named {project.name!r} already exists")
        self._undo.put(self._t.projects, project.id, project)

    def get_project(self, project_id: str) -> Project | None:
        return self._t.projects.get(project_id)

    def project_by_name(self, tenant_id: str, name: str) -> Project | None:
        return next(
            (p for p in self._t.projects.values() if p.tenant_id == tenant_id and p.name == name), None
        )

    def list_projects(
        self, tenant_id: str | None, after: str | None, limit: int
    ) -> tuple[list[Project], int]:
        items = [p for p in self._t.projects.values() if tenant_id is None or p.tenant_id == tenant_id]
        return paged(items, after, limit)

    def update_tenant(self, tenant: Tenant) -> None:
        self._undo.put(self._t.tenants, tenant.id, tenant)

    def add_token(self, token: Token) -> None:
        self._undo.put(self._t.tokens, token.secret_hash, token)

    def token_by_hash(self, secret_hash: str) -> Token | None:
        return self._t.tokens.get(secret_hash)

    def get_token(self, token_id: str) -> Token | None:
        return next((t for t in self._t.tokens.values() if t.id == token_id), None)

    def list_tokens(self, tenant_id: str | None, after: str | None, limit: int) -> tuple[list[Token], int]:
        items = [t for t in self._t.tokens.values() if tenant_id is None or t.tenant_id == tenant_id]
        return paged(items, after, limit)

    def revoke_token(self, token_id: str, at: datetime) -> None:
        token = self.get_token(token_id)
        if token is not None:
            self._undo.put(self._t.tokens, token.secret_hash, replace(token, revoked_at=at))

    def auth_epoch(self) -> int:
        return self._t.auth_epoch

    def bump_auth_epoch(self) -> None:
        self._undo.set_attr(self._t, "auth_epoch", self._t.auth_epoch + 1)

    # the audit trail
    def add_audit(self, entry: AuditEntry) -> None:
        self._undo.append(self._t.audit, AuditRecord(len(self._t.audit) + 1, entry))

    def audit_entries(
        self, tenant_id: str | None, action: str | None, since: datetime | None, after: int | None, limit: int
    ) -> tuple[list[AuditRecord], int]:
        rows = self._t.audit[after:] if after is not None and after > 0 else self._t.audit  # seq = index + 1
        rest = [
            r
            for r in rows
            if (after is None or r.seq > after)
            and (tenant_id is None or r.entry.tenant_id == tenant_id)
            and (action is None or r.entry.action == action)
            and (since is None or r.entry.at >= since)
        ]
        return rest[:limit], len(rest)

    def put_quota(self, quota: Quota) -> None:
        self._undo.put(self._t.quotas, (quota.tenant_id, quota.project_id, quota.model), quota)

    def quotas(self, tenant_id: str | None) -> list[Quota]:
        return sorted(
            (q for q in self._t.quotas.values() if tenant_id is None or q.tenant_id == tenant_id),
            key=lambda q: (q.tenant_id, q.project_id or "", q.model),
        )

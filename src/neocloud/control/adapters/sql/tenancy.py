"""Tenants, projects, tokens, the auth epoch, the audit trail and quotas, in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from neocloud.control.adapters.sql import tables as t
from neocloud.control.adapters.sql.connected import Connected
from neocloud.control.adapters.sql.rows import to_audit, to_project, to_tenant, to_token
from neocloud.control.adapters.sql.statements import sql
from neocloud.control.domain.quotas import Quota
from neocloud.control.domain.tenancy import Project, Tenant, Token
from neocloud.infra.counters import Counters, Part
from neocloud.kernel.audit import AuditEntry, AuditRecord
from neocloud.kernel.ids import ProjectId, TenantId


def _auth_epoch_part() -> Part:
    return (select(t.auth_epoch.c.version).where(t.auth_epoch.c.id == 1).scalar_subquery(),)


class SqlAuthEpoch:
    """`UnitOfWork.auth_epoch` without a unit of work, for every request's authentication: a counter of
    infra.counters, so it is one statement outside any transaction, and within a read-only request the
    same statement that reads the request's other counters (the price catalog's version)."""

    def __init__(self, counters: Counters) -> None:
        self._counters = counters

    def __call__(self) -> int:
        (version,) = self._counters.read("auth-epoch", _auth_epoch_part)
        return int(version or 0)


class TenancyRows(Connected):
    def add_tenant(self, tenant: Tenant) -> None:
        self._insert(
            f"a tenant named {tenant.name!r}",
            insert(t.tenants).values(
                id=tenant.id, name=tenant.name, created_at=tenant.created_at, suspended_at=tenant.suspended_at
            ),
        )

    def update_tenant(self, tenant: Tenant) -> None:
        self.c.execute(
            update(t.tenants)
            .where(t.tenants.c.id == tenant.id)
            .values(name=tenant.name, suspended_at=tenant.suspended_at)
        )

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        r = self.c.execute(sql().tenant, {"id": tenant_id}).first()
        return to_tenant(r) if r else None

    def tenant_by_name(self, name: str) -> Tenant | None:
        r = self.c.execute(select(t.tenants).where(t.tenants.c.name == name)).first()
        return to_tenant(r) if r else None

    def list_tenants(
        self, ids: Sequence[str] | None, after: str | None, limit: int
    ) -> tuple[list[Tenant], int]:
        q = select(t.tenants)
        if ids is not None:
            q = q.where(t.tenants.c.id.in_(list(ids)))
        rows, total = self._page(q, t.tenants.c.id, after, limit)
        return [to_tenant(r) for r in rows], total

    def add_project(self, project: Project) -> None:
        self._insert(
            f"a project named {project.name!r}",
            insert(t.projects).values(
                id=project.id, tenant_id=project.tenant_id, name=project.name, created_at=project.created_at
            ),
        )

    def get_project(self, project_id: str) -> Project | None:
        r = self.c.execute(sql().project, {"id": project_id}).first()
        return to_project(r) if r else None

    def project_by_name(self, tenant_id: str, name: str) -> Project | None:
        """The same statement reads the tenant's quotas, which admission asks for next: a `quotas()` of
        that tenant that is the very next read of this unit of work answers from them (any other statement
        in between drops them; see Connected.c)."""
        rows = self.c.execute(sql().project_by_name_and_quotas, {"tenant_id": tenant_id, "name": name}).all()
        if not rows:
            return None
        self._quotas_read = (
            tenant_id,
            [
                Quota(
                    TenantId(tenant_id),
                    ProjectId(r.q_project_key) if r.q_project_key else None,
                    r.q_model,
                    r.q_gpus,
                )
                for r in rows
                if r.q_model is not None
            ],
        )
        return to_project(rows[0])

    def list_projects(
        self, tenant_id: str | None, after: str | None, limit: int
    ) -> tuple[list[Project], int]:
        q = select(t.projects)
        if tenant_id is not None:
            q = q.where(t.projects.c.tenant_id == tenant_id)
        rows, total = self._page(q, t.projects.c.id, after, limit)
        return [to_project(r) for r in rows], total

    def add_token(self, token: Token) -> None:
        self.c.execute(
            insert(t.tokens).values(
                id=token.id,
                secret_hash=token.secret_hash,
                prefix=token.prefix,
                role=token.role.value,
                tenant_id=token.tenant_id,
                project_id=token.project_id,
                created_at=token.created_at,
                expires_at=token.expires_at,
                revoked_at=token.revoked_at,
            )
        )

    def token_by_hash(self, secret_hash: str) -> Token | None:
        r = self.c.execute(sql().token_by_hash, {"secret_hash": secret_hash}).first()
        return to_token(r) if r else None

    def get_token(self, token_id: str) -> Token | None:
        r = self.c.execute(select(t.tokens).where(t.tokens.c.id == token_id)).first()
        return to_token(r) if r else None

    def list_tokens(self, tenant_id: str | None, after: str | None, limit: int) -> tuple[list[Token], int]:
        q = select(t.tokens)
        if tenant_id is not None:
            q = q.where(t.tokens.c.tenant_id == tenant_id)
        rows, total = self._page(q, t.tokens.c.id, after, limit)
        return [to_token(r) for r in rows], total

    def revoke_token(self, token_id: str, at: datetime) -> None:
        self.c.execute(update(t.tokens).where(t.tokens.c.id == token_id).values(revoked_at=at))

    def auth_epoch(self) -> int:
        version = self.c.execute(sql().auth_epoch).scalar()
        return int(version or 0)

    def bump_auth_epoch(self) -> None:
        e = t.auth_epoch
        ins = (pg_insert if self._pg else sqlite_insert)(e).values(id=1, version=1)
        self.c.execute(ins.on_conflict_do_update(index_elements=[e.c.id], set_={"version": e.c.version + 1}))

    # the audit trail (append-only: no update, no delete; the schema's triggers refuse both)
    def add_audit(self, entry: AuditEntry) -> None:
        self.c.execute(
            insert(t.audit_log).values(
                at=entry.at,
                actor=entry.actor.id,
                actor_tenant_id=entry.actor.tenant_id,
                action=entry.action,
                target=entry.target,
                tenant_id=entry.tenant_id,
                details=json.dumps(dict(entry.details), sort_keys=True),
            )
        )

    def audit_entries(
        self,
        tenant_id: str | None,
        action: str | None,
        since: datetime | None,
        after: int | None,
        limit: int,
    ) -> tuple[list[AuditRecord], int]:
        a = t.audit_log.c
        q = select(t.audit_log)
        if tenant_id is not None:
            q = q.where(a.tenant_id == tenant_id)
        if action is not None:
            q = q.where(a.action == action)
        if since is not None:
            q = q.where(a.at >= since)
        if after is not None:
            q = q.where(a.seq > after)
        total = self.c.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        return [to_audit(r) for r in self.c.execute(q.order_by(a.seq).limit(limit))], int(total)

    def put_quota(self, quota: Quota) -> None:
        key = {"tenant_id": quota.tenant_id, "project_key": quota.project_id or "", "model": quota.model}
        done = self.c.execute(
            update(t.quotas).where(*(t.quotas.c[k] == v for k, v in key.items())).values(gpus=quota.gpus)
        )
        if done.rowcount == 0:
            self.c.execute(insert(t.quotas).values(**key, gpus=quota.gpus))

    def quotas(self, tenant_id: str | None) -> list[Quota]:
        if (read := self._quotas_read) is not None:
            self._quotas_read = None
            if read[0] == tenant_id:
                return read[1]
        if tenant_id is not None:
            rows = self.c.execute(sql().quotas_of, {"tenant_id": tenant_id})
        else:
            rows = self.c.execute(
                select(t.quotas).order_by(t.quotas.c.tenant_id, t.quotas.c.project_key, t.quotas.c.model)
            )
        return [
            Quota(TenantId(r.tenant_id), ProjectId(r.project_key) if r.project_key else None, r.model, r.gpus)
            for r in rows
        ]

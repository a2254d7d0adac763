"""Identity and tenancy use cases: tokens, tenants, projects, quotas, and their audit entries.

Every change here appends its audit entry in the unit of work of the change. Revoking a token and
suspending or resuming a tenant also bump the store's auth epoch in that unit of work, so API servers
drop their cached principals on their next request (api/auth.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from neocloud.control.app import present
from neocloud.control.app.audit import entry
from neocloud.control.app.deps import Deps, checked_page, next_cursor
from neocloud.control.app.views import (
    Page,
    PageRequest,
    ProjectView,
    QuotaView,
    TenantView,
    TokenView,
)
from neocloud.control.domain.quotas import Quota
from neocloud.control.domain.tenancy import (
    Principal,
    Project,
    Role,
    Tenant,
    Token,
    display_prefix,
    hash_secret,
    make_secret,
    validate_name,
)
from neocloud.kernel.audit import Action
from neocloud.kernel.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from neocloud.kernel.gpus import CATALOG, gpu_model
from neocloud.kernel.ids import ProjectId, TenantId


def default_quotas(tenant_id: TenantId, setting: Mapping[str, int] | int | None) -> list[Quota]:
    """A new tenant's quotas from the `default_quota_gpus` setting (see Deps)."""
    if setting is None:
        return []
    if isinstance(setting, int):
        return [Quota(tenant_id, None, name, setting) for name in CATALOG]
    return [Quota(tenant_id, None, gpu_model(name).name, gpus) for name, gpus in sorted(setting.items())]


class TenancyService:
    """Who may call, and the tenants, projects and quotas they belong to."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def authenticate(self, secret: str) -> Principal:
        """The principal of a live token: unknown, revoked and expired tokens are all Unauthenticated
        (401). A suspended tenant's tokens authenticate, marked `suspended` (they read, never write)."""
        if not secret or not secret.startswith("nc_"):
            raise Unauthenticated("missing or malformed API token (expected 'nc_…')")
        with self._deps.uow(read_only=True) as uow:
            token = uow.token_by_hash(hash_secret(secret))
            tenant = uow.get_tenant(token.tenant_id) if token is not None and token.tenant_id else None
        if token is None:
            raise Unauthenticated("unknown API token")
        if token.revoked_at is not None:
            raise Unauthenticated("this API token was revoked")
        if not token.live_at(self._deps.clock.now()):
            raise Unauthenticated("this API token has expired")
        return token.principal(suspended=tenant is not None and tenant.suspended)

    def auth_epoch(self) -> int:
        """Changes whenever a revoke, suspend or resume commits (see UnitOfWork.auth_epoch); read by
        `Deps.auth_epoch` where one is wired (the SQL store's: one statement, no transaction)."""
        if self._deps.auth_epoch is not None:
            return self._deps.auth_epoch()
        with self._deps.uow(read_only=True) as uow:
            return uow.auth_epoch()

    def now(self) -> datetime:
        return self._deps.clock.now()

    def create_tenant(self, name: str, *, principal: Principal | None = None) -> TenantView:
        """A tenant with a 'default' project and the default quotas (Deps.default_quota_gpus)."""
        if principal is not None:
            principal.require_operator("creating a tenant")
        name = validate_name("tenant", name)
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            if uow.tenant_by_name(name) is not None:
                raise Conflict(f"a tenant named {name!r} already exists", details={"name": name})
            tenant = Tenant(TenantId(self._deps.ids.new_id("ten")), name, now)
            uow.add_tenant(tenant)
            uow.add_project(Project(ProjectId(self._deps.ids.new_id("prj")), tenant.id, "default", now))
            quotas = default_quotas(tenant.id, self._deps.default_quota_gpus)
            for quota in quotas:
                uow.put_quota(quota)
            details = {"name": name, "default_quotas": {q.model: q.gpus for q in quotas}}
            uow.add_audit(
                entry(self._deps, principal, Action.TENANT_CREATE, tenant.id, tenant.id, details, at=now)
            )
            uow.commit()
        return present.tenant_view(tenant)

    def _suspension(self, tenant_ref: str, principal: Principal | None, suspend: bool) -> TenantView:
        action = "suspending a tenant" if suspend else "resuming a tenant"
        if principal is not None:
            principal.require_operator(action)
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            tenant = uow.get_tenant(tenant_ref) or uow.tenant_by_name(tenant_ref)
            if tenant is None:
                raise NotFound(f"tenant {tenant_ref!r} not found")
            if tenant.suspended == suspend:
                return present.tenant_view(tenant)  # already so: nothing changes, nothing is recorded
            changed = replace(tenant, suspended_at=now if suspend else None)
            uow.update_tenant(changed)
            uow.bump_auth_epoch()
            what = Action.TENANT_SUSPEND if suspend else Action.TENANT_RESUME
            uow.add_audit(
                entry(self._deps, principal, what, tenant.id, tenant.id, {"name": tenant.name}, at=now)
            )
            uow.commit()
        return present.tenant_view(changed)

    def suspend_tenant(self, tenant: str, *, principal: Principal | None = None) -> TenantView:
        """Operators only. From now on every write of the tenant's tokens is Forbidden; reads (bills
        included) still work. Its existing allocations keep running (and billing) until they end or are
        stopped by an operator; nothing new is admitted for it. Suspending a suspended tenant changes
        nothing. `tenant` is an id or a name."""
        return self._suspension(tenant, principal, True)

    def resume_tenant(self, tenant: str, *, principal: Principal | None = None) -> TenantView:
        """Operators only: the tenant's tokens may write again."""
        return self._suspension(tenant, principal, False)

    def list_tenants(self, principal: Principal, page: PageRequest | None = None) -> Page[TenantView]:
        p = checked_page(page)
        ids = None if principal.sees_everything else [principal.tenant_id or ""]
        with self._deps.uow(read_only=True) as uow:
            items, total = uow.list_tenants(ids, p.cursor, p.limit)
        return Page([present.tenant_view(t) for t in items], next_cursor(items, p.limit, total), total)

    def get_tenant(self, principal: Principal, tenant_id: str) -> TenantView:
        principal.visible(tenant_id, "tenant", tenant_id)
        with self._deps.uow(read_only=True) as uow:
            tenant = uow.get_tenant(tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id!r} not found")
        return present.tenant_view(tenant)

    def create_project(self, principal: Principal, tenant_id: str, name: str) -> ProjectView:
        principal.require_admin_of(tenant_id, "creating a project")
        name = validate_name("project", name)
        with self._deps.uow() as uow:
            if uow.get_tenant(tenant_id) is None:
                raise NotFound(f"tenant {tenant_id!r} not found")
            if uow.project_by_name(tenant_id, name) is not None:
                raise Conflict(
                    f"tenant {tenant_id} already has a project named {name!r}", details={"name": name}
                )
            project = Project(
                ProjectId(self._deps.ids.new_id("prj")), TenantId(tenant_id), name, self._deps.clock.now()
            )
            uow.add_project(project)
            uow.add_audit(
                entry(
                    self._deps,
                    principal,
                    Action.PROJECT_CREATE,
                    project.id,
                    tenant_id,
                    {"name": name},
                    at=project.created_at,
                )
            )
            uow.commit()
        return present.project_view(project)

    def list_projects(self, principal: Principal, page: PageRequest | None = None) -> Page[ProjectView]:
        p = checked_page(page)
        with self._deps.uow(read_only=True) as uow:
            tenant = None if principal.sees_everything else (principal.tenant_id or "")
            items, total = uow.list_projects(tenant, p.cursor, p.limit)
        return Page([present.project_view(x) for x in items], next_cursor(items, p.limit, total), total)

    def create_token(
        self,
        tenant_name: str | None,
        role: Role | str,
        project: str | None = None,
        *,
        principal: Principal | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[TokenView, str]:
        """A new API token; the secret is returned once and only its sha256 is stored. With
        `expires_at` (aware, in the future) it stops authenticating then."""
        role = role if isinstance(role, Role) else Role.parse(role)
        now = self._deps.clock.now()
        if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
            raise InvalidInput(
                "expires_at must be a timezone-aware instant in the future",
                details={"field": "expires_at", "now": now.isoformat()},
            )
        if principal is not None:
            principal.require_active("creating a token")
        if (
            principal is not None
            and not principal.is_operator
            and (principal.role is not Role.TENANT_ADMIN or role not in (Role.TENANT_MEMBER, Role.VIEWER))
        ):
            raise Forbidden(
                "tenant-admins may create tenant-member and viewer tokens; anything else needs an operator"
            )
        if principal is not None and not principal.is_operator:
            # A tenant-admin's tokens are always for its own tenant (and a project-limited admin's for its
            # project): only an operator mints a token without a tenant.
            if tenant_name is None:
                tenant_name = principal.tenant_id
            if principal.project_id is not None:
                if project is not None and project != principal.project_id:
                    raise Forbidden(f"this token is limited to project {principal.project_id}")
                project = principal.project_id
        with self._deps.uow() as uow:
            tenant_id: TenantId | None = None
            project_id: ProjectId | None = None
            if tenant_name is None:
                if role not in (Role.OPERATOR, Role.VIEWER):
                    raise InvalidInput(f"a {role.value} token needs a tenant", details={"role": role.value})
                if project is not None:
                    raise InvalidInput("a project token needs a tenant")
            else:
                if role is Role.OPERATOR:
                    raise InvalidInput("operator tokens belong to no tenant", details={"role": role.value})
                tenant = uow.tenant_by_name(tenant_name) or uow.get_tenant(tenant_name)
                if tenant is None:
                    raise NotFound(f"tenant {tenant_name!r} not found")
                tenant_id = tenant.id
                if principal is not None and not principal.is_operator and principal.tenant_id != tenant.id:
                    raise NotFound(f"tenant {tenant_name!r} not found")
                if project is not None:
                    proj = uow.project_by_name(tenant.id, project) or uow.get_project(project)
                    if proj is None or proj.tenant_id != tenant.id:
                        raise NotFound(f"project {project!r} not found in tenant {tenant.name!r}")
                    project_id = proj.id
            secret = make_secret(self._deps.ids.secret())
            token = Token(
                self._deps.ids.new_id("tok"),
                hash_secret(secret),
                display_prefix(secret),
                role,
                tenant_id,
                project_id,
                now,
                expires_at,
            )
            uow.add_token(token)
            details = {
                "role": role.value,
                "project_id": project_id,
                "prefix": token.prefix,
                "expires_at": expires_at.isoformat() if expires_at else None,
            }
            uow.add_audit(
                entry(self._deps, principal, Action.TOKEN_CREATE, token.id, tenant_id, details, at=now)
            )
            uow.commit()
        return present.token_view(token), secret

    def list_tokens(self, principal: Principal, page: PageRequest | None = None) -> Page[TokenView]:
        """Operators see every token; a tenant-admin its tenant's (a project-limited admin its
        project's); secrets are never shown, only their prefix."""
        p = checked_page(page)
        if not principal.is_operator and (
            principal.role is not Role.TENANT_ADMIN or principal.tenant_id is None
        ):
            raise Forbidden(
                f"listing tokens needs an operator or tenant-admin; this token is {principal.role.value}"
            )
        tenant = None if principal.is_operator else principal.tenant_id
        with self._deps.uow(read_only=True) as uow:
            if principal.project_id is None:
                items, total = uow.list_tokens(tenant, p.cursor, p.limit)
            else:  # rare: filter a project-limited admin's view in full (tokens per tenant are few)
                every, _ = uow.list_tokens(tenant, p.cursor, 10_000)
                mine = [t for t in every if t.project_id == principal.project_id]
                items, total = mine[: p.limit], len(mine)
        return Page([present.token_view(t) for t in items], next_cursor(items, p.limit, total), total)

    def revoke_token(self, principal: Principal | None, token_id: str) -> TokenView:
        """Revoke now: the token fails authentication on its next request on every server. Operators
        revoke any token; a tenant-admin its own tenant's (another tenant's token is NotFound, like a
        missing one). Revoking a revoked token changes nothing."""
        if principal is not None and not principal.is_operator:
            if principal.role is not Role.TENANT_ADMIN or principal.tenant_id is None:
                raise Forbidden(
                    f"revoking a token needs an operator or tenant-admin; this token is {principal.role.value}"
                )
            principal.require_active("revoking a token")
        now = self._deps.clock.now()
        with self._deps.uow() as uow:
            token = uow.get_token(token_id)
            if token is None or (
                principal is not None
                and not principal.is_operator
                and (
                    token.tenant_id != principal.tenant_id
                    or (principal.project_id is not None and token.project_id != principal.project_id)
                )
            ):
                raise NotFound(f"token {token_id!r} not found")
            if token.revoked_at is not None:
                return present.token_view(token)
            uow.revoke_token(token.id, now)
            uow.bump_auth_epoch()
            details = {"role": token.role.value, "prefix": token.prefix}
            uow.add_audit(
                entry(self._deps, principal, Action.TOKEN_REVOKE, token.id, token.tenant_id, details, at=now)
            )
            uow.commit()
        return present.token_view(replace(token, revoked_at=now))

    def set_quota(
        self,
        principal: Principal | None,
        tenant_id: str,
        model: str,
        gpus: int,
        project_id: str | None = None,
    ) -> QuotaView:
        """Operators set any quota; a tenant-admin sets quotas of its own tenant's projects. `principal`
        None is a server-side operator command, which may also name the tenant and project by name."""
        if principal is not None:
            if project_id is None:
                principal.require_operator("setting a tenant quota")
            else:
                principal.require_admin_of(tenant_id, "setting a project quota")
        name = gpu_model(model).name
        with self._deps.uow() as uow:
            tenant = uow.get_tenant(tenant_id) or (
                uow.tenant_by_name(tenant_id) if principal is None else None
            )
            if tenant is None:
                raise NotFound(f"tenant {tenant_id!r} not found")
            if project_id is not None:
                proj = uow.get_project(project_id) or (
                    uow.project_by_name(tenant.id, project_id) if principal is None else None
                )
                if proj is None or proj.tenant_id != tenant.id:
                    raise NotFound(f"project {project_id!r} not found")
                project_id = proj.id
            before = next(
                (q.gpus for q in uow.quotas(tenant.id) if q.model == name and q.project_id == project_id),
                None,
            )
            quota = Quota(tenant.id, ProjectId(project_id) if project_id else None, name, gpus)
            uow.put_quota(quota)
            target = f"{tenant.id}/{project_id}/{name}" if project_id else f"{tenant.id}/{name}"
            details = {"model": name, "project_id": project_id, "gpus": gpus, "previous_gpus": before}
            uow.add_audit(entry(self._deps, principal, Action.QUOTA_SET, target, tenant.id, details))
            uow.commit()
        return present.quota_view(quota)

    def list_quotas(self, principal: Principal, tenant: str | None = None) -> list[QuotaView]:
        """The caller's tenant's quotas (every tenant's for operators and fleet-wide viewers, or only
        `tenant`'s, an id or a name, when given)."""
        with self._deps.uow(read_only=True) as uow:
            if tenant is not None:
                found = uow.get_tenant(tenant) or uow.tenant_by_name(tenant)
                if found is None or not principal.can_see(found.id):
                    raise NotFound(f"tenant {tenant!r} not found")
                quotas = uow.quotas(found.id)
            else:
                quotas = uow.quotas(None if principal.sees_everything else (principal.tenant_id or ""))
        return [present.quota_view(q) for q in quotas]

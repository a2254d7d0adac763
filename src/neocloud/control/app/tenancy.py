"""Identity and tenancy use cases: tokens, tenants, projects, quotas."""

from __future__ import annotations

from neocloud.control.app import present
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
from neocloud.kernel.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.ids import ProjectId, TenantId


class TenancyService:
    """Who may call, and the tenants, projects and quotas they belong to."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps


    def authenticate(self, secret: str) -> Principal:
        if not secret or not secret.startswith("nc_"):
            raise Unauthenticated("missing or malformed API token (expected 'nc_…')")
        with self._deps.uow(read_only=True) as uow:
            token = uow.token_by_hash(hash_secret(secret))
        if token is None:
            raise Unauthenticated("unknown API token")
        return token.principal()

    def create_tenant(self, name: str, *, principal: Principal | None = None) -> TenantView:
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
            uow.commit()
        return present.tenant_view(tenant)

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
    ) -> tuple[TokenView, str]:
        """A new API token; the secret is returned once and only its sha256 is stored."""
        role = role if isinstance(role, Role) else Role.parse(role)
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
                self._deps.clock.now(),
            )
            uow.add_token(token)
            uow.commit()
        return TokenView(token.id, tenant_id, role, token.created_at, token.prefix, project_id), secret

    def set_quota(
        self, principal: Principal, tenant_id: str, model: str, gpus: int, project_id: str | None = None
    ) -> QuotaView:
        """Operators set any quota; a tenant-admin sets quotas of its own tenant's projects."""
        if project_id is None:
            principal.require_operator("setting a tenant quota")
        else:
            principal.require_admin_of(tenant_id, "setting a project quota")
        name = gpu_model(model).name
        with self._deps.uow() as uow:
            if uow.get_tenant(tenant_id) is None:
                raise NotFound(f"tenant {tenant_id!r} not found")
            if project_id is not None:
                proj = uow.get_project(project_id)
                if proj is None or proj.tenant_id != tenant_id:
                    raise NotFound(f"project {project_id!r} not found")
            quota = Quota(TenantId(tenant_id), ProjectId(project_id) if project_id else None, name, gpus)
            uow.put_quota(quota)
            uow.commit()
        return present.quota_view(quota)

    def list_quotas(self, principal: Principal) -> list[QuotaView]:
        with self._deps.uow(read_only=True) as uow:
            quotas = uow.quotas(None if principal.sees_everything else (principal.tenant_id or ""))
        return [present.quota_view(q) for q in quotas]

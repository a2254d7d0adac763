"""Who sees what: the tenancy rules every control-plane use case applies.

A tenant principal never sees, counts or touches another tenant's objects, and another tenant's id
answers NotFound exactly like a missing one.
"""

from __future__ import annotations

from neocloud.control.app.deps import Deps
from neocloud.control.app.ports import UnitOfWork
from neocloud.control.domain.allocations import Allocation
from neocloud.control.domain.tenancy import Principal, Project
from neocloud.kernel.errors import Forbidden, InvalidInput, NotFound
from neocloud.kernel.ids import TenantId
from neocloud.kernel.products import Product

PAGE = 500


def tenant_projects(uow: UnitOfWork, tenant_id: str) -> list[Project]:
    """Every project of `tenant_id`, read page by page (never only the first page)."""
    out: list[Project] = []
    after: str | None = None
    while True:
        page, _ = uow.list_projects(tenant_id, after, PAGE)
        out.extend(page)
        if len(page) < PAGE:
            return out
        after = page[-1].id


def resolve_project(uow: UnitOfWork, principal: Principal, ref: str | None) -> Project:
    """The project new objects go to: the one named (id or name), else the token's, else the tenant's
    'default'."""
    if ref is None and principal.project_id is not None:
        ref = principal.project_id
    if principal.tenant_id is None:
        if ref is None:
            raise InvalidInput(
                "a token without a tenant must name the project (by id)", details={"field": "project"}
            )
        proj = uow.get_project(ref)
        if proj is None:
            raise NotFound(f"project {ref!r} not found")
        return proj
    proj = (
        (uow.get_project(ref) or uow.project_by_name(principal.tenant_id, ref))
        if ref
        else uow.project_by_name(principal.tenant_id, "default")
    )
    if proj is None or proj.tenant_id != principal.tenant_id:
        raise NotFound(f"project {ref or 'default'!r} not found")
    if principal.project_id is not None and proj.id != principal.project_id:
        raise Forbidden(f"this token is limited to project {principal.project_id}")
    return proj


def visible_allocation(
    deps: Deps, principal: Principal, allocation_id: str, products: tuple[Product, ...], what: str
) -> Allocation:
    """The allocation if `principal` may see it and it is one of `products`; NotFound otherwise."""
    with deps.uow(read_only=True) as uow:
        alloc = uow.get_allocation(allocation_id)
    if alloc is None or alloc.product not in products or not principal.can_see(alloc.tenant_id):
        raise NotFound(f"{what} {allocation_id!r} not found")
    return alloc


def request_tenant(deps: Deps, principal: Principal, project: str | None) -> TenantId | None:
    """The tenant a request is made, and priced, for: the principal's, else (a token without a tenant
    naming a project by id) the project's; None when neither says (list prices apply)."""
    if principal.tenant_id is not None or project is None:
        return principal.tenant_id
    with deps.uow(read_only=True) as uow:
        found = uow.get_project(project)
    return found.tenant_id if found is not None else None

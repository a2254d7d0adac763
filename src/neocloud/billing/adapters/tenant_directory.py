"""Billing's TenantDirectory over the control plane: tenant and project names read through the control
plane's own unit-of-work port (memory or SQL alike), so billing never touches the control plane's tables.

Each call is one short read-only unit of work; names are read when a document is made, never copied
into billing's records (a renamed tenant is billed under its current name).
"""

from __future__ import annotations

from collections.abc import Iterable

from neocloud.billing.app.ports import TenantDirectory
from neocloud.control.app.access import tenant_projects
from neocloud.control.app.ports import UnitOfWorkFactory
from neocloud.kernel.ids import ProjectId, TenantId

PAGE = 500


class ControlTenantDirectory:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def resolve_tenant(self, ref: str) -> TenantId | None:
        with self._uow(read_only=True) as uow:
            tenant = uow.get_tenant(ref) or uow.tenant_by_name(ref)
        return tenant.id if tenant is not None else None

    def tenant_names(self, ids: Iterable[TenantId]) -> dict[TenantId, str]:
        wanted = sorted(set(ids))
        out: dict[TenantId, str] = {}
        with self._uow(read_only=True) as uow:
            for i in range(0, len(wanted), PAGE):
                found, _ = uow.list_tenants(wanted[i : i + PAGE], None, PAGE)
                out.update((t.id, t.name) for t in found)
        return out

    def project_names(self, tenant: TenantId) -> dict[ProjectId, str]:
        with self._uow(read_only=True) as uow:
            return {p.id: p.name for p in tenant_projects(uow, tenant) if p.tenant_id == tenant}


def _conforms(directory: ControlTenantDirectory) -> TenantDirectory:
    """For the type checker: ControlTenantDirectory is a TenantDirectory."""
    return directory

"""The audit trail as the control plane keeps and shows it.

Entries of the control plane's own changes are appended in the unit of work of the change (`entry(…)`
then `uow.add_audit`), so an entry commits exactly when its change does. `StoreAuditTrail` is the
`AuditTrail` port over the same store for other contexts (billing's price changes), one unit of work
per entry. Reading: operators (and fleet-wide viewers) read every entry; a tenant-admin reads its own
tenant's entries only, where actors from outside the tenant (operators, server-side commands) are shown
as "operator", so no other tenant's name or id ever appears; anyone else is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from neocloud.control.app.deps import Deps, checked_page, next_cursor
from neocloud.control.app.ports import UnitOfWorkFactory
from neocloud.control.app.views import AuditView, Page, PageRequest
from neocloud.control.domain.tenancy import Principal, Role
from neocloud.kernel.audit import SERVER_SIDE, Actor, AuditEntry, AuditRecord
from neocloud.kernel.errors import Forbidden, InvalidInput

ACTION_MAX = 64


def actor_of(principal: Principal | None) -> Actor:
    return SERVER_SIDE if principal is None else principal.actor


def entry(
    deps: Deps,
    principal: Principal | None,
    action: str,
    target: str,
    tenant_id: str | None,
    details: Mapping[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> AuditEntry:
    """The entry for `principal` (None: a server-side command) doing `action` now."""
    return AuditEntry(at or deps.clock.now(), actor_of(principal), action, target, tenant_id, details or {})


class StoreAuditTrail:
    """The `AuditTrail` port over the control plane's store: each entry in a unit of work of its own."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def record(self, entry: AuditEntry) -> None:
        with self._uow() as uow:
            uow.add_audit(entry)
            uow.commit()


def _view(record: AuditRecord, viewer: Principal) -> AuditView:
    e = record.entry
    foreign = not viewer.sees_everything and e.actor.tenant_id != viewer.tenant_id
    return AuditView(
        record.id,
        e.at,
        "operator" if foreign else e.actor.id,
        None if foreign else e.actor.tenant_id,
        e.action,
        e.target,
        e.tenant_id,
        dict(e.details),
    )


class AuditService:
    """Who did what, as the caller may see it."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def list_entries(
        self,
        principal: Principal,
        page: PageRequest | None = None,
        *,
        action: str | None = None,
        since: datetime | None = None,
    ) -> Page[AuditView]:
        """Entries oldest first (the cursor is a position in the trail), filtered by `action` and by
        time (`since`, inclusive)."""
        p = checked_page(page)
        if not principal.sees_everything and principal.role is not Role.TENANT_ADMIN:
            raise Forbidden(
                f"reading the audit log needs an operator or tenant-admin; this token is {principal.role.value}"
            )
        if since is not None and since.tzinfo is None:
            raise InvalidInput("since must be timezone-aware (UTC)", details={"field": "since"})
        if action is not None and not 0 < len(action) <= ACTION_MAX:
            raise InvalidInput("malformed action", details={"field": "action"})
        after: int | None = None
        if p.cursor is not None:
            if not p.cursor.isdigit():
                raise InvalidInput(
                    "malformed cursor: pass back the next_cursor of the previous page",
                    details={"field": "cursor"},
                )
            after = int(p.cursor)
        tenant = None if principal.sees_everything else (principal.tenant_id or "")
        with self._deps.uow(read_only=True) as uow:
            items, total = uow.audit_entries(tenant, action, since, after, p.limit)
        return Page([_view(r, principal) for r in items], next_cursor(items, p.limit, total), total)

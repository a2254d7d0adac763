"""The audit trail as the API serves it (GET /v1/audit): mirrors control/app/views.py's AuditView.

`actor` is a token id, "server-side" for commands run where the database is, or "operator" when a
tenant-admin reads an entry made by someone outside its tenant; `tenant_id` is the tenant the entry
belongs to (null: fleet-wide, such as a list price change; only operators see those). `details` holds
action-specific facts (strings, numbers, booleans, nulls).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from neocloud.wire.fields import Out

ACTION_PATTERN = r"^[a-z][a-z._-]{0,63}$"


class AuditOut(Out):
    id: str
    at: datetime
    actor: str
    actor_tenant_id: str | None
    action: str
    target: str
    tenant_id: str | None
    details: dict[str, Any]

"""The audit trail port: an append-only record of who changed what, shared by every context.

The control plane stores the trail (its `audit_log` table, or the memory store's list) and writes its
own entries in the unit of work of the change they describe, so there is never an entry without its
change nor a change without its entry. Other contexts (billing's price changes) record through the
`AuditTrail` port right after their own transaction commits; none of them touches the control plane's
tables. There is no way to update or delete an entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a token id (or a description such as "server-side" for commands run where the
    database is), and the tenant that token belongs to (None for operators)."""

    id: str
    tenant_id: str | None = None


SERVER_SIDE = Actor("server-side")
"""The actor of operator commands run through bootstrap (no token: whoever reaches the database)."""


class Action:
    """The actions the trail records (stable strings: filters and tools match on them)."""

    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    TENANT_CREATE = "tenant.create"
    TENANT_SUSPEND = "tenant.suspend"
    TENANT_RESUME = "tenant.resume"
    QUOTA_SET = "quota.set"
    PROJECT_CREATE = "project.create"
    RESERVATION_CANCEL = "reservation.cancel"
    RESERVATION_EXTEND = "reservation.extend"
    INSTANCE_STOP = "instance.stop"
    PRICE_SET = "price.set"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One thing that happened: at `at`, `actor` did `action` to `target` (an object id or key).
    `tenant_id` is the tenant the entry belongs to (None: fleet-wide, such as a list price; only
    operators read those); `details` is a small JSON-ready mapping (strings, numbers, booleans, None)."""

    at: datetime
    actor: Actor
    action: str
    target: str
    tenant_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("an audit entry's time must be timezone-aware (UTC)")
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored entry with its position in the trail (`seq` grows with every entry appended)."""

    seq: int
    entry: AuditEntry

    @property
    def id(self) -> str:
        return str(self.seq)


class AuditTrail(Protocol):
    """Append an entry to the trail, durably, in a transaction of its own."""

    def record(self, entry: AuditEntry) -> None: ...

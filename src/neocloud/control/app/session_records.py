"""Where console sessions are kept: the record and its port (control/app/sessions.py uses them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One signed-in browser, as stored (keyed by the sha256 of its cookie's session id)."""

    key: str
    token_id: str
    role: str
    tenant_id: str | None
    csrf: str
    created_at: datetime
    seen_at: datetime
    expires_at: datetime
    flash: tuple[str, ...] = ()


class SessionRecords(Protocol):
    """Where sessions are kept (memory: control/adapters/memory_sessions.py; SQL: adapters/sql/sessions.py)."""

    def add(self, record: SessionRecord) -> None: ...
    def get(self, key: str) -> SessionRecord | None: ...
    def touch(self, key: str, seen_at: datetime) -> None: ...
    def set_flash(self, key: str, flash: tuple[str, ...]) -> None: ...
    def delete(self, key: str) -> None: ...
    def delete_token(self, token_id: str) -> int:
        """End every session of one token; how many there were."""
        ...

    def purge(self, now: datetime, idle: timedelta) -> int:
        """Delete the sessions past their end or idle since before `now - idle`; how many."""
        ...

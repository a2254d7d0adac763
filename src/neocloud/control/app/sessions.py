"""Console sessions, kept server-side in the control plane's store, so they survive a restart and work
on every server process behind one address (no sticky routing).

A browser signs in with an API token and gets a random session id (256 bits) in an HttpOnly cookie.
The store keeps, per session, the sha256 of that id (a copy of the table does not give a cookie), the
*id* of the token it was opened with (never its secret), its role and tenant, a CSRF secret, when it was
opened, last seen and when it ends, and the flash messages waiting for the next page.

Every request re-checks the token by its id: a revoked or expired token, or a token gone, ends all its
sessions at once (on every server: the store is shared), and a suspended tenant's sessions read only,
as its tokens do on the API. Revoking a token from the console also deletes its sessions. A session
ends at sign-out, after `idle` without a request, or `lifetime` after sign-in, whichever is first; the
last-seen time is written at most every `touch_every` (so a page view is not always a write), which
bounds how early an idle session can end by that much.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from neocloud.control.app.session_records import SessionRecord, SessionRecords
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import NotReady, Unauthenticated

if TYPE_CHECKING:
    from neocloud.control.app.deps import Deps

DEFAULT_IDLE = timedelta(minutes=30)
DEFAULT_LIFETIME = timedelta(hours=8)
TOUCH_EVERY = timedelta(seconds=60)
MAX_FLASH = 5


def session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison; None and "" never match."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


@dataclass
class Session:
    """A live session of one request: its record and the principal of its token now."""

    id: str
    record: SessionRecord
    principal: Principal
    flash: list[str] = field(default_factory=list)

    @property
    def csrf(self) -> str:
        return self.record.csrf

    @property
    def token_id(self) -> str:
        return self.record.token_id


class ConsoleSessions:
    """Open, find and end console sessions (see the module docstring)."""

    def __init__(
        self,
        deps: Deps,
        records: SessionRecords | None,
        idle: timedelta = DEFAULT_IDLE,
        lifetime: timedelta = DEFAULT_LIFETIME,
    ) -> None:
        self._deps = deps
        self._records = records
        self.idle = idle
        self.lifetime = lifetime
        self.touch_every = TOUCH_EVERY
        self.clock: Callable[[], datetime] = deps.clock.now

    @property
    def records(self) -> SessionRecords:
        if self._records is None:
            raise NotReady("console sessions need a session store (bootstrap wires one)")
        return self._records

    def open(self, principal: Principal) -> tuple[str, Session]:
        """A new session for the (already authenticated) principal; returns (cookie value, session)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + self.lifetime
        if principal.expires_at is not None:
            expires = min(expires, principal.expires_at)
        record = SessionRecord(
            key=session_key(session_id),
            token_id=principal.token_id,
            role=principal.role.value,
            tenant_id=principal.tenant_id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            seen_at=now,
            expires_at=expires,
        )
        self.records.add(record)
        self.records.purge(now, self.idle)
        return session_id, Session(session_id, record, principal)

    def get(self, session_id: str | None) -> Session | None:
        """The live session of a cookie value, with its token's principal now; None when there is none,
        it has ended (it is then deleted) or its token no longer authenticates (all its sessions end)."""
        if not session_id or len(session_id) > 128:
            return None
        key = session_key(session_id)
        record = self.records.get(key)
        if record is None:
            return None
        now = self.clock()
        if now >= record.expires_at or now - record.seen_at > self.idle:
            self.records.delete(key)
            return None
        try:
            principal = self._principal(record.token_id, now)
        except Unauthenticated:
            self.records.delete_token(record.token_id)
            return None
        if now - record.seen_at >= self.touch_every:
            self.records.touch(key, now)
            record = replace(record, seen_at=now)
        return Session(session_id, record, principal, list(record.flash))

    def _principal(self, token_id: str, now: datetime) -> Principal:
        with self._deps.uow(read_only=True) as uow:
            token = uow.get_token(token_id)
            tenant = uow.get_tenant(token.tenant_id) if token is not None and token.tenant_id else None
        if token is None or not token.live_at(now):
            raise Unauthenticated("the session's token was revoked or has expired")
        return token.principal(suspended=tenant is not None and tenant.suspended)

    def save_flash(self, session: Session) -> None:
        """Store the session's flash messages if they changed (the last MAX_FLASH)."""
        wanted = tuple(session.flash[-MAX_FLASH:])
        if wanted != session.record.flash:
            self.records.set_flash(session.record.key, wanted)
            session.record = replace(session.record, flash=wanted)

    def close(self, session_id: str | None) -> None:
        if session_id and len(session_id) <= 128:
            self.records.delete(session_key(session_id))

    def close_token(self, token_id: str) -> int:
        """End every session opened with the token `token_id` (when it is revoked)."""
        return self.records.delete_token(token_id)

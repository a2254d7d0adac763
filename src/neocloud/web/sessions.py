"""Console sessions: sign in with an API token, get an HttpOnly SameSite=Strict cookie.

The cookie carries only a random session id (256 bits); the server keeps, per session, the API token
it was opened with and a CSRF secret, keyed by the id's sha256 (a leaked memory dump of the keys does
not give a cookie). Every request re-authenticates the token through the API's principal cache, so a
revoked token, an expired one or a suspended tenant takes effect on the console exactly as on the API.

A session ends at sign-out, after `idle` without a request, or `lifetime` after sign-in, whichever
comes first. Sessions live in this server process's memory (bounded, oldest evicted first): a restart
signs everyone out, and several API processes behind one address need sticky routing for the console.

CSRF: every form carries the session's CSRF token (`csrf` field), compared in constant time; the
sign-in form, before there is a session, uses a double-submit cookie (`nc_signin`). On top of that a
POST whose Origin header names another origin is refused, and the cookie is SameSite=Strict, so a
browser never sends it with a request that another site starts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_COOKIE = "nc_session"
SIGNIN_COOKIE = "nc_signin"
CSRF_FIELD = "csrf"
DEFAULT_IDLE_S = 30 * 60.0
DEFAULT_LIFETIME_S = 8 * 3600.0
DEFAULT_MAX_SESSIONS = 10_000


@dataclass
class Session:
    """One signed-in browser: the API token it signed in with and its CSRF token."""

    token: str
    csrf: str
    created: float
    seen: float
    flash: list[str] = field(default_factory=list)


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison; None and "" never match."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


class SessionStore:
    """Sessions of this process, by the sha256 of their id."""

    def __init__(
        self,
        idle: float = DEFAULT_IDLE_S,
        lifetime: float = DEFAULT_LIFETIME_S,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle = idle
        self.lifetime = lifetime
        self._max = max_sessions
        self.clock = clock
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def open(self, token: str) -> tuple[str, Session]:
        """A new session for `token` (already authenticated by the caller); returns (cookie value, session)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(token=token, csrf=secrets.token_urlsafe(32), created=now, seen=now)
        with self._lock:
            self._sessions[_key(session_id)] = session
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)
        return session_id, session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of a cookie value (and mark it seen), else None; an expired one is dropped."""
        if not session_id or len(session_id) > 128:
            return None
        key = _key(session_id)
        now = self.clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if now - session.seen > self.idle or now - session.created > self.lifetime:
                del self._sessions[key]
                return None
            session.seen = now
            return session

    def close(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(_key(session_id), None)

    def close_token(self, token: str) -> int:
        """End every session opened with `token` (after the token is revoked from the console)."""
        with self._lock:
            gone = [k for k, s in self._sessions.items() if s.token == token]
            for k in gone:
                del self._sessions[k]
        return len(gone)

    def __len__(self) -> int:
        return len(self._sessions)

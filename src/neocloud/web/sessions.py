"""Console sessions on the web side: sign in with an API token, get an HttpOnly SameSite=Strict cookie.

The sessions themselves are the control plane's (control/app/sessions.py): kept server-side in its
store, keyed by the sha256 of the cookie's random id, naming the token by its id, so they survive a
restart, work on every server process behind one address, and end at once when their token is revoked
or expires. A session ends at sign-out, after its idle time or at its lifetime.

CSRF: every form carries the session's CSRF token (`csrf` field), compared in constant time; the
sign-in form, before there is a session, uses a double-submit cookie (`nc_signin`). On top of that a
POST whose Origin header names another origin is refused, and the cookie is SameSite=Strict, so a
browser never sends it with a request that another site starts.
"""

from __future__ import annotations

from neocloud.control.app.sessions import ConsoleSessions, Session, same_secret

__all__ = ["CSRF_FIELD", "SESSION_COOKIE", "SIGNIN_COOKIE", "ConsoleSessions", "Session", "same_secret"]

SESSION_COOKIE = "nc_session"
SIGNIN_COOKIE = "nc_signin"
CSRF_FIELD = "csrf"

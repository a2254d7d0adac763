"""Who is looking at the console, and the forms they send.

`Viewer` (a FastAPI dependency) is the signed-in browser: its session (control.sessions: kept in the
store, re-checking its token by id on every request, so revocation and suspension act at once) with the
principal of its token, and the services. `Form` reads a POSTed urlencoded form and refuses it (403) unless it carries the session's
CSRF token and, when the browser names an Origin, that origin is this server's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from neocloud.billing.app.service import BillingService
from neocloud.control.app.control import ControlPlane
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import Forbidden, InvalidInput, NotReady
from neocloud.web.render import SignInRequired
from neocloud.web.sessions import CSRF_FIELD, SESSION_COOKIE, ConsoleSessions, Session, same_secret

MAX_FORM_BYTES = 16_384


class Principals(Protocol):
    """The API's principal cache (api/auth.py PrincipalCache), shared with the console."""

    def principal_for(self, secret: str, tenancy: Any) -> Principal: ...


@dataclass
class Viewer:
    """The signed-in browser of one request."""

    session_id: str
    session: Session
    principal: Principal
    control: ControlPlane
    services: Any
    tenant_name: str | None = None
    cache: dict[str, Any] | None = None

    def fleet_models(self) -> set[str]:
        """The GPU models the fleet has (control.fleetmap: from the topology it keeps per node set)."""
        return set(self.control.fleetmap.models())

    @property
    def billing(self) -> BillingService:
        found: BillingService | None = getattr(self.services, "billing", None)
        if found is None:
            raise NotReady("billing is not configured on this server")
        return found

    @property
    def is_operator_view(self) -> bool:
        """Operators and fleet-wide viewers see the operator pages."""
        return self.principal.sees_everything

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def flash(self, message: str) -> None:
        """A message for the next page this browser shows (kept in the session's record)."""
        self.session.flash.append(message)
        self.control.sessions.save_flash(self.session)

    def take_flash(self) -> list[str]:
        out, self.session.flash[:] = list(self.session.flash), []
        if out:
            self.control.sessions.save_flash(self.session)
        return out


def sessions(request: Request) -> ConsoleSessions:
    found: ConsoleSessions = request.app.state.services.control.sessions
    return found


def viewer(request: Request) -> Viewer:
    session_id = request.cookies.get(SESSION_COOKIE)
    session = sessions(request).get(session_id)  # None too when its token was revoked or expired
    if session is None or session_id is None:
        raise SignInRequired
    services = request.app.state.services
    control: ControlPlane = services.control
    principal = session.principal
    shared: dict[str, Any] = request.app.state.console_cache
    found = Viewer(session_id, session, principal, control, services, cache=shared)
    if principal.tenant_id is not None:
        found.tenant_name = control.tenancy.get_tenant(principal, principal.tenant_id).name
    request.state.viewer = found
    return found


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another origin (Origin header, else Referer)."""
    origin = request.headers.get("origin") or ""
    if not origin:
        referer = request.headers.get("referer") or ""
        if not referer:
            return True
        parts = referer.split("/")
        origin = "/".join(parts[:3]) if len(parts) >= 3 else referer
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin == own


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded body (the first value of each field), refusing bodies over MAX_FORM_BYTES."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise Forbidden("console forms are application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidInput("form too large")
    out: dict[str, str] = {}
    for key, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        out.setdefault(key, value)
    return out


async def form(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> dict[str, str]:
    """The POSTed form of a signed-in viewer, once its CSRF token and origin check out (else 403)."""
    if not same_origin(request):
        raise Forbidden("cross-origin form refused")
    fields = await read_form(request)
    if not same_secret(fields.get(CSRF_FIELD), who.csrf):
        raise Forbidden("missing or invalid CSRF token: reload the page and try again")
    return fields


SignedIn = Annotated[Viewer, Depends(viewer)]
Form = Annotated[dict[str, str], Depends(form)]


def form_instant(fields: dict[str, str], name: str) -> datetime | None:
    """A form's date-and-time field as UTC: empty is None; without an offset (a browser's
    datetime-local) it is read as UTC; with one it is converted, never overwritten."""
    raw = fields.get(name, "").strip()
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name}: a date and time (UTC) is needed", details={"field": name}) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)

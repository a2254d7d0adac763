"""NeocloudClient: a typed httpx client of the neocloud API (the CLI's tenant commands use it, so can scripts).

Every non-2xx answer raises `ApiError(status, code, message, details)` carrying the API's JSON error.
Reservations and instances are created with an `Idempotency-Key` (a fresh UUID unless the caller gives
one) and retried on transport errors with the same key, so a retry never creates a duplicate; reads are
retried too; other writes are sent once. Answers are parsed into the wire models the server serves
(neocloud.wire), the very same classes, so client and server cannot drift apart.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx

from neocloud.wire.audit import AuditOut
from neocloud.wire.capacity import CalendarOut, EventOut, InstanceOut, NodeOut, QuoteOut, ReservationOut
from neocloud.wire.health import Health
from neocloud.wire.paging import Page
from neocloud.wire.tenancy import ProjectOut, QuotaOut, TenantOut, TokenCreated, TokenOut, WhoAmI

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0


class ApiError(Exception):
    """An error answer from the API (or status 0 with code "unreachable" when there was no answer)."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def _error_from(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        details = body.get("details")
        return ApiError(
            response.status_code,
            str(body["error"]),
            str(body.get("message", "")),
            details if isinstance(details, dict) else {},
        )
    text = response.text.strip()[:200] or response.reason_phrase
    return ApiError(response.status_code, "http-error", text)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _retry_after(response: httpx.Response, cap: float = 5.0) -> float:
    """The server's Retry-After in seconds (capped; 1 s when absent or not a number)."""
    try:
        return min(cap, max(0.0, float(response.headers.get("Retry-After", "1"))))
    except ValueError:
        return 1.0


class NeocloudClient:
    """`NeocloudClient("http://127.0.0.1:8000", token)`; pass `http=` to use your own httpx.Client."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retries: int = 2,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._owned = http is None
        self._http = http or httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self._http.headers.update(headers)
        self._retries = retries
        self.url = url

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> NeocloudClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- transport ----------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        retry: bool = False,
    ) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        if isinstance(json, dict):
            json = {k: v for k, v in json.items() if v is not None}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        attempts = 1 + (self._retries if retry else 0)
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                response = self._http.request(method, path, json=json, params=query, headers=headers)
            except httpx.TimeoutException as exc:
                if not last:
                    continue
                raise ApiError(
                    0,
                    "timeout",
                    f"{self.url} did not answer {method} {path} in time ({type(exc).__name__}); it may still "
                    "have been applied: retry it (with the same Idempotency-Key for a create)",
                ) from exc
            except httpx.TransportError as exc:
                if not last:
                    continue
                raise ApiError(0, "unreachable", f"cannot reach {self.url}: {exc}") from exc
            if response.is_success:
                return response.json() if response.content else None
            if response.status_code == 503 and not last:
                time.sleep(_retry_after(response))  # the database is out of reach or busy: it said when
                continue
            raise _error_from(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, path: str, **params: Any) -> Any:  # reads and keyed creates are safe to repeat
        return self._request("GET", path, params=params, retry=True)

    def _create(self, path: str, body: dict[str, Any], idempotency_key: str | None) -> Any:
        return self._request(
            "POST", path, json=body, idempotency_key=idempotency_key or str(uuid.uuid4()), retry=True
        )

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._request("POST", path, json=body)

    # ---- health and identity ------------------------------------------------------------------------

    def health(self) -> Health:
        return Health.model_validate(self._get("/healthz"))

    def ready(self) -> Health:
        """Status "ready"; ApiError 503 when the server is not (database down or not migrated)."""
        return Health.model_validate(self._request("GET", "/readyz"))  # a probe: answered now, never retried

    def whoami(self) -> WhoAmI:
        return WhoAmI.model_validate(self._get("/v1/whoami"))

    # ---- tenants, projects, tokens, quotas ----------------------------------------------------------

    def create_tenant(self, name: str) -> TenantOut:
        """Names are unique: a repeated create answers 409, so it is not retried."""
        return TenantOut.model_validate(self._post("/v1/tenants", {"name": name}))

    def list_tenants(self, *, limit: int = 50, cursor: str | None = None) -> Page[TenantOut]:
        return Page[TenantOut].model_validate(self._get("/v1/tenants", limit=limit, cursor=cursor))

    def get_tenant(self, tenant_id: str) -> TenantOut:
        return TenantOut.model_validate(self._get(f"/v1/tenants/{tenant_id}"))

    def create_project(self, tenant_id: str, name: str) -> ProjectOut:
        return ProjectOut.model_validate(self._post("/v1/projects", {"tenant_id": tenant_id, "name": name}))

    def list_projects(self, *, limit: int = 50, cursor: str | None = None) -> Page[ProjectOut]:
        return Page[ProjectOut].model_validate(self._get("/v1/projects", limit=limit, cursor=cursor))

    def suspend_tenant(self, tenant_id: str) -> TenantOut:
        """Operators: the tenant's tokens still read but never write. Repeating it changes nothing."""
        return TenantOut.model_validate(self._request("POST", f"/v1/tenants/{tenant_id}/suspend", retry=True))

    def resume_tenant(self, tenant_id: str) -> TenantOut:
        return TenantOut.model_validate(self._request("POST", f"/v1/tenants/{tenant_id}/resume", retry=True))

    def create_token(
        self,
        role: str,
        *,
        tenant: str | None = None,
        project: str | None = None,
        expires_at: datetime | None = None,
    ) -> TokenCreated:
        """A new token for tenant `tenant` (name; None: operator or fleet-wide viewer), valid until
        `expires_at` (None: no expiry). Not retried: a retry could mint a second token whose secret
        nobody saw."""
        body = {"tenant": tenant, "role": role, "project": project, "expires_at": _iso(expires_at)}
        return TokenCreated.model_validate(self._post("/v1/tokens", body))

    def list_tokens(self, *, limit: int = 50, cursor: str | None = None) -> Page[TokenOut]:
        return Page[TokenOut].model_validate(self._get("/v1/tokens", limit=limit, cursor=cursor))

    def revoke_token(self, token_id: str) -> TokenOut:
        """Revoke now, on every server. Repeating it changes nothing, so it is retried."""
        return TokenOut.model_validate(self._request("DELETE", f"/v1/tokens/{token_id}", retry=True))

    def audit(
        self,
        *,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[AuditOut]:
        """The audit log, oldest first: every entry for operators, the tenant's own for tenant-admins."""
        data = self._get("/v1/audit", action=action, since=_iso(since), limit=limit, cursor=cursor)
        return Page[AuditOut].model_validate(data)

    def set_quota(self, tenant_id: str, model: str, gpus: int, *, project_id: str | None = None) -> QuotaOut:
        body = {"tenant_id": tenant_id, "model": model, "gpus": gpus, "project_id": project_id}
        return QuotaOut.model_validate(self._request("PUT", "/v1/quotas", json=body, retry=True))

    def list_quotas(self) -> list[QuotaOut]:
        return [QuotaOut.model_validate(q) for q in self._get("/v1/quotas")]

    # ---- fleet and capacity -------------------------------------------------------------------------

    def list_nodes(self, *, limit: int = 50, cursor: str | None = None) -> Page[NodeOut]:
        return Page[NodeOut].model_validate(self._get("/v1/nodes", limit=limit, cursor=cursor))

    def calendar(
        self,
        model: str,
        *,
        shape: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        step_hours: int | None = None,
    ) -> CalendarOut:
        data = self._get(
            "/v1/capacity/calendar",
            model=model,
            shape=shape,
            start=_iso(start),
            end=_iso(end),
            step_hours=step_hours,
        )
        return CalendarOut.model_validate(data)

    # ---- reservations -------------------------------------------------------------------------------

    @staticmethod
    def _reservation_body(
        model: str, gpus: int, hours: int, start: datetime | None, shape: str | None, project: str | None
    ) -> dict[str, Any]:
        return {
            "model": model,
            "gpus": gpus,
            "hours": hours,
            "start": _iso(start),
            "shape": shape,
            "project": project,
        }

    def quote(
        self,
        model: str,
        gpus: int,
        hours: int,
        *,
        start: datetime | None = None,
        shape: str | None = None,
        project: str | None = None,
    ) -> QuoteOut:
        body = self._reservation_body(model, gpus, hours, start, shape, project)
        return QuoteOut.model_validate(self._request("POST", "/v1/reservations/quote", json=body, retry=True))

    def reserve(
        self,
        model: str,
        gpus: int,
        hours: int,
        *,
        start: datetime | None = None,
        shape: str | None = None,
        project: str | None = None,
        idempotency_key: str | None = None,
    ) -> ReservationOut:
        body = self._reservation_body(model, gpus, hours, start, shape, project)
        return ReservationOut.model_validate(self._create("/v1/reservations", body, idempotency_key))

    def list_reservations(
        self, *, limit: int = 50, cursor: str | None = None, state: str | None = None
    ) -> Page[ReservationOut]:
        return Page[ReservationOut].model_validate(
            self._get("/v1/reservations", limit=limit, cursor=cursor, state=state)
        )

    def get_reservation(self, reservation_id: str) -> ReservationOut:
        return ReservationOut.model_validate(self._get(f"/v1/reservations/{reservation_id}"))

    def cancel_reservation(self, reservation_id: str) -> ReservationOut:
        return ReservationOut.model_validate(self._post(f"/v1/reservations/{reservation_id}/cancel"))

    def extend_reservation(self, reservation_id: str, hours: int) -> ReservationOut:
        return ReservationOut.model_validate(
            self._post(f"/v1/reservations/{reservation_id}/extend", {"hours": hours})
        )

    # ---- instances and events -----------------------------------------------------------------------

    def create_instance(
        self,
        model: str,
        nodes: int,
        *,
        spot: bool = False,
        project: str | None = None,
        idempotency_key: str | None = None,
    ) -> InstanceOut:
        body = {"model": model, "nodes": nodes, "spot": spot, "project": project}
        return InstanceOut.model_validate(self._create("/v1/instances", body, idempotency_key))

    def list_instances(self, *, limit: int = 50, cursor: str | None = None) -> Page[InstanceOut]:
        return Page[InstanceOut].model_validate(self._get("/v1/instances", limit=limit, cursor=cursor))

    def get_instance(self, instance_id: str) -> InstanceOut:
        return InstanceOut.model_validate(self._get(f"/v1/instances/{instance_id}"))

    def stop_instance(self, instance_id: str) -> InstanceOut:
        return InstanceOut.model_validate(self._post(f"/v1/instances/{instance_id}/stop"))

    def list_events(self, allocation_id: str) -> list[EventOut]:
        return [EventOut.model_validate(e) for e in self._get(f"/v1/allocations/{allocation_id}/events")]

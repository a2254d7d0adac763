"""Tenant isolation, route by route and role by role.

Every route of the app's OpenAPI document must have an entry in EXPECTATIONS (a route added later fails
here until someone states what each role gets from it). Each entry is a list of probes; a probe that
addresses an object (`kind`) is sent with each of the caller's own objects of that kind, with each of
the other tenants' (foreign), and with a missing id of the same shape, and the status every role gets is
stated for each. On top of the stated status:

- a tenant token's answer never carries another tenant's id or name (beyond the one the request sent);
  a caller without a valid token sees no tenant's;
- a foreign object answers a tenant token exactly like a missing one (same status and error code), so a
  403 or a 409 can never tell that another tenant's object exists; the operator's 2xx on the same
  foreign ids shows they exist;
- a list shows the caller's own objects (the operator's shows every tenant's), so "no foreign id in the
  list" cannot pass on an empty list.

The caller is always a token of alice-corp; bob-labs and carol-ai are the other tenants.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from neocloud.control.app.views import MAX_PAGE
from neocloud.control.domain.tenancy import Role, hash_secret
from tests.integration.api_world import ApiWorld
from tests.integration.isolation_world import IsolationWorld, Marks, leaked, missing_marks, slurm_users

ME = "alice-corp"

# ---- roles ----------------------------------------------------------------------------------------------
# A role is how the caller's bearer token is obtained. Roles in UNAUTHENTICATED get 401 on every /v1
# probe: no token, a tenant-member token its admin revoked (DELETE /v1/tokens/{id}) and one created with
# expires_at that the world's clock has since passed. Both were used once while live, so the API's
# principal cache held them: the 401s show the auth epoch and the expiry check keep it from serving them.

TokenOf = Callable[[IsolationWorld], str | None]
ROLES: dict[str, TokenOf] = {
    "tenant-admin": lambda w: w.token(ME, Role.TENANT_ADMIN),
    "tenant-member": lambda w: w.token(ME, Role.TENANT_MEMBER),
    "viewer": lambda w: w.token(ME, Role.VIEWER),
    "operator": lambda w: w.api.operator,
    "no-token": lambda w: None,
    "revoked": lambda w: w.dead[ME]["revoked"],
    "expired": lambda w: w.dead[ME]["expired"],
}
TENANT_ROLES = ("tenant-admin", "tenant-member", "viewer")
UNAUTHENTICATED = frozenset({"no-token", "revoked", "expired"})


def E(admin: int, member: int, viewer: int, operator: int) -> dict[str, int]:
    """The status each authenticated role gets."""
    return {"tenant-admin": admin, "tenant-member": member, "viewer": viewer, "operator": operator}


def ALL(status: int) -> dict[str, int]:
    return E(status, status, status, status)


# ---- probes ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None


Then = Callable[[IsolationWorld, str, Any], None]  # (world, role, 2xx response)


@dataclass(frozen=True)
class Probe:
    """One request shape. Without `kind`, `request(me, me, "")` is sent once and `own` is expected.
    With `kind`, `request(me, owner, ident)` is sent for each object of that kind of the caller's tenant
    (`own`), of every other tenant (`foreign`) and for a missing one (`missing`)."""

    request: Callable[[Marks, Marks, str], Req]
    own: dict[str, int]
    kind: str | None = None
    foreign: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    shows: str | None = (
        None  # a list: the caller's objects of this kind appear (every tenant's for operators)
    )
    then: Then | None = None  # more checks on a 2xx answer
    before: Callable[[IsolationWorld], None] | None = None  # sets the (fresh) world up, once per role


def plain(method: str, path: str, own: dict[str, int], **kw: Any) -> Probe:
    json, params = kw.pop("json", None), kw.pop("params", None)
    return Probe(lambda me, m, i: Req(method, path, json, params), own, **kw)


def listing(path: str, shows: str, params: dict[str, str] | None = None) -> Probe:
    return Probe(lambda me, m, i: Req("GET", path, None, params), ALL(200), shows=shows)


def by_id(
    kind: str,
    request: Callable[[Marks, Marks, str], Req],
    own: dict[str, int],
    foreign: dict[str, int],
    missing: dict[str, int],
    then: Then | None = None,
) -> Probe:
    return Probe(request, own, kind, foreign, missing, then=then)


NOT_FOUND_BUT_OPERATOR = E(404, 404, 404, 200)
WRITE_OWN = E(200, 200, 403, 200)
WRITE_FOREIGN = E(404, 404, 403, 200)
WRITE_MISSING = E(404, 404, 403, 404)


def _tomorrow_plus(world: IsolationWorld, days: int) -> str:
    return (world.api.clock.now() + timedelta(days=days)).isoformat()


def _bound_to_me(world: IsolationWorld, role: str, response: Any) -> None:
    """A tenant role's own token is of its tenant."""
    if role in TENANT_ROLES:
        assert response.json()["tenant_id"] == world.marks[ME].tenant_id, response.text


def _minted_token_stays_home(world: IsolationWorld, role: str, response: Any) -> None:
    """A token a tenant role mints is bound to that tenant and reads nothing of any other."""
    if role not in TENANT_ROLES:
        return
    made = response.json()
    http = world.api.http(made["secret"])
    me = world.marks[ME]
    assert made["token"]["tenant_id"] == me.tenant_id, made
    assert http.get("/v1/whoami").json()["tenant_id"] == me.tenant_id
    for path in (
        "/v1/whoami",
        "/v1/tenants",
        "/v1/projects",
        "/v1/instances",
        "/v1/reservations",
        "/v1/invoices",
    ):
        answer = http.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert not leaked(answer.text, world.others(ME)), (path, answer.text)


def _token_probe(body: Callable[[Marks, Marks, str], dict[str, Any]], kind: str | None, **e: Any) -> Probe:
    return Probe(
        lambda me, m, i: Req("POST", "/v1/tokens", body(me, m, i)),
        kind=kind,
        then=_minted_token_stays_home,
        **e,
    )


def _usage_like(path: str) -> list[Probe]:
    return [
        plain("GET", path, E(200, 200, 200, 422)),
        by_id(
            "tenant",
            lambda me, m, i: Req("GET", path, params={"tenant": i}),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),  # an unknown tenant is refused, naming it, for operators too
        ),
    ]


def _slurm_users(
    method: str,
    own: dict[str, int],
    user: Callable[[Marks, int], str] | None = None,
    as_json: bool = False,
) -> list[Probe]:
    """A tenant's Slurm users: of its own tenant (naming another answers like a missing one); operators
    name the tenant (422 without). `user(owner, k)`: the user the k-th probe (0 plain, 1 by tenant)
    adds or removes."""
    path = "/v1/slurm/users"

    def req(owner: Marks, k: int, tenant: str | None) -> Req:
        named = {"user": user(owner, k)} if user is not None else None
        query = {"tenant": tenant} if tenant is not None else {}
        if as_json:
            return Req(method, path, named, query or None)
        return Req(method, path, None, {**(named or {}), **query} or None)

    return [
        Probe(lambda me, m, i: req(me, 0, None), {**own, "operator": 422}),
        by_id(
            "tenant",
            lambda me, m, i: req(m, 1, i),
            own,
            E(404, 404, 404, own["operator"]),
            ALL(404),
        ),
    ]


def _reserve(project: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "H100", "gpus": 8, "hours": 1, "start": "2026-04-06T00:00:00Z"}
    return body | ({"project": project} if project else {})


def _quota(tenant: str, project: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"tenant_id": tenant, "model": "H100", "gpus": 40}
    return body | ({"project_id": project} if project else {})


def _download(fmt: str) -> Probe:
    return by_id(
        "invoice",
        lambda me, m, i: Req("GET", f"/v1/invoices/{i}/download", params={"format": fmt}),
        ALL(200),
        NOT_FOUND_BUT_OPERATOR,
        ALL(404),
    )


def _id_of(world: IsolationWorld, secret: str) -> str:
    return next(i for i, s in world.secrets.items() if s == secret)


def _no_secrets(world: IsolationWorld, response: Any) -> None:
    """No bearer secret, nor the hash it is stored as, in an answer."""
    for secret in world.secrets_of_everyone():
        assert secret not in response.text and hash_secret(secret) not in response.text, response.text
    for item in response.json()["items"]:
        assert "secret" not in item and "secret_hash" not in item, item


def _tokens_are_mine(world: IsolationWorld, role: str, response: Any) -> None:
    """A tenant-admin lists exactly its tenant's tokens, the revoked and expired ones shown as such;
    nobody ever sees a secret."""
    _no_secrets(world, response)
    items = {t["id"]: t for t in response.json()["items"]}
    if role == "tenant-admin":
        me = world.marks[ME]
        assert set(items) == set(me.token_ids), (me.token_ids, response.text)
        assert all(t["tenant_id"] == me.tenant_id for t in items.values()), response.text
        assert items[_id_of(world, world.dead[ME]["revoked"])]["revoked_at"] is not None, response.text
        expired = items[_id_of(world, world.dead[ME]["expired"])]
        assert expired["revoked_at"] is None and expired["expires_at"] is not None, response.text


def _revoked_at_once(world: IsolationWorld, role: str, response: Any) -> None:
    """The revoked token gets 401 on its very next request (it was used, so the principal cache had it)."""
    token = response.json()
    assert token["revoked_at"] is not None, token
    assert "secret" not in token, token
    answer = world.api.http(world.secrets[token["id"]]).get("/v1/whoami")
    assert answer.status_code == 401, (token, answer.text)


def _audit_is_mine(world: IsolationWorld, role: str, response: Any) -> None:
    """A tenant-admin reads its tenant's entries only, with outside actors shown as "operator", and
    they include its own recent actions: the tokens it minted and revoked, its project, its member's
    stops."""
    entries = response.json()["items"]
    assert response.json()["total"] == len(entries), "the probe reads the whole trail in one page"
    if role != "tenant-admin":
        return
    me = world.marks[ME]
    for e in entries:
        assert e["tenant_id"] == me.tenant_id, e
        assert e["actor_tenant_id"] in (None, me.tenant_id), e
        assert e["actor"] in {"operator", "server-side", *me.token_ids}, e
    done = {(e["actor"], e["action"], e["target"]) for e in entries}
    admin, member = me.admin_token_id, _id_of(world, world.token(ME, Role.TENANT_MEMBER))
    revoked = _id_of(world, world.dead[ME]["revoked"])
    train = me.project_ids[me.project_names.index(f"{ME}-train")]
    wanted = {(admin, "token.create", t) for t in me.token_ids if t != admin}
    wanted |= {(admin, "token.revoke", revoked), (admin, "project.create", train)}
    wanted |= {(member, "instance.stop", i) for i in me.instance_ids[:2]}  # the March instances
    assert wanted <= done, (sorted(wanted - done), response.text)


def _revocations(world: IsolationWorld, role: str, response: Any) -> None:
    """Filtered by action: only revocations, and the caller's tenant's revoked token among them (every
    tenant's for operators)."""
    entries = response.json()["items"]
    assert entries and all(e["action"] == "token.revoke" for e in entries), response.text
    names = [ME] if role == "tenant-admin" else list(world.marks)
    for name in names:
        assert _id_of(world, world.dead[name]["revoked"]) in {e["target"] for e in entries}, response.text


def _tenant_of(world: IsolationWorld, tenant_id: str) -> str:
    return next(name for name, m in world.marks.items() if m.tenant_id == tenant_id)


def _admin_writes(world: IsolationWorld, name: str) -> int:
    """The status a tenant-admin's write gets (its project quota, set again to what it is); its reads
    are checked to answer 200 on the way."""
    marks = world.marks[name]
    admin = world.api.http(world.token(name, Role.TENANT_ADMIN))
    for path in ("/v1/whoami", "/v1/instances", "/v1/invoices"):
        assert admin.get(path).status_code == 200, (name, path)
    train = marks.project_ids[marks.project_names.index(f"{name}-train")]
    quota = {"tenant_id": marks.tenant_id, "model": "H100", "gpus": 48, "project_id": train}
    return int(admin.put("/v1/quotas", json=quota).status_code)


def _suspended(world: IsolationWorld, role: str, response: Any) -> None:
    """From the suspend on, the tenant's tokens (cached: the world used them) still read but never write."""
    tenant = response.json()
    assert tenant["suspended_at"] is not None, tenant
    name = _tenant_of(world, tenant["id"])
    assert _admin_writes(world, name) == 403, name
    member = world.api.http(world.token(name, Role.TENANT_MEMBER))
    assert member.post("/v1/instances", json={"model": "H100", "nodes": 1}).status_code == 403, name


def _resumed(world: IsolationWorld, role: str, response: Any) -> None:
    tenant = response.json()
    assert tenant["suspended_at"] is None, tenant
    assert _admin_writes(world, _tenant_of(world, tenant["id"])) == 200, tenant


def _suspend_everyone(world: IsolationWorld) -> None:
    for marks in world.marks.values():
        world.api.control.tenancy.suspend_tenant(marks.tenant_id)
    for name in world.marks:
        assert _admin_writes(world, name) == 403, name


def _suspension(verb: str, then: Then, before: Callable[[IsolationWorld], None] | None = None) -> list[Probe]:
    """Operators only, whoever the tenant is (named by id or by name)."""
    return [
        Probe(
            lambda me, m, i: Req("POST", f"/v1/tenants/{i}/{verb}"),
            E(403, 403, 403, 200),
            kind,
            E(403, 403, 403, 200),
            E(403, 403, 403, 404),
            then=then,
            before=before,
        )
        for kind in ("tenant", "name")
    ]


ALL_OF_IT = {"limit": str(MAX_PAGE)}

OPERATOR_ONLY = E(403, 403, 403, 200)


def _sla_lines_are_mine(world: IsolationWorld, role: str, response: Any) -> None:
    """The report is not empty: a tenant role's lines are all of its own allocations (spot and
    not-yet-started ones are not covered), an operator's are of every tenant."""
    lines = response.json()["lines"]
    tenants = {x["tenant_id"] for x in lines}
    if role in TENANT_ROLES:
        mine = set(world.marks[ME].of("allocation"))
        assert lines and {x["allocation"] for x in lines} <= mine, response.text
        assert tenants == {world.marks[ME].tenant_id}
    else:
        assert tenants == {m.tenant_id for m in world.marks.values()}, response.text


def _node(method: str, action: str, body: dict[str, Any] | None, own: dict[str, int]) -> Probe:
    """A node route on the fleet's first node (nodes are no tenant's: there is no foreign node)."""
    return Probe(lambda me, m, i: Req(method, f"/v1/nodes/{me.node_ids[0]}/{action}", body), own)


def _far_window() -> dict[str, Any]:
    return {"start": "2027-06-01T00:00:00Z", "end": "2027-06-02T00:00:00Z", "reason": "matrix"}


EXPECTATIONS: dict[str, list[Probe]] = {
    "GET /healthz": [plain("GET", "/healthz", ALL(200))],
    "GET /readyz": [plain("GET", "/readyz", ALL(200))],
    "GET /v1/whoami": [plain("GET", "/v1/whoami", ALL(200), then=_bound_to_me)],
    "POST /v1/tenants": [
        plain("POST", "/v1/tenants", E(403, 403, 403, 201), json={"name": "matrix-new"}),
        by_id(
            "name",
            lambda me, m, i: Req("POST", "/v1/tenants", {"name": i}),
            E(403, 403, 403, 409),
            E(403, 403, 403, 409),
            E(403, 403, 403, 201),
        ),
    ],
    "GET /v1/tenants": [listing("/v1/tenants", "tenant")],
    "POST /v1/tenants/{tenant_id}/suspend": _suspension("suspend", _suspended),
    "POST /v1/tenants/{tenant_id}/resume": _suspension("resume", _resumed, before=_suspend_everyone),
    "GET /v1/tenants/{tenant_id}": [
        by_id(
            "tenant",
            lambda me, m, i: Req("GET", f"/v1/tenants/{i}"),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),
        )
    ],
    "POST /v1/projects": [
        by_id(
            "tenant",
            lambda me, m, i: Req("POST", "/v1/projects", {"tenant_id": i, "name": "matrix-proj"}),
            E(201, 403, 403, 201),
            E(404, 404, 404, 201),
            ALL(404),
        )
    ],
    "GET /v1/projects": [listing("/v1/projects", "project")],
    "POST /v1/tokens": [
        _token_probe(
            lambda me, m, i: {"tenant": i, "role": "viewer"},
            "name",
            own=E(201, 403, 403, 201),
            foreign=E(404, 403, 403, 201),
            missing=E(404, 403, 403, 404),
        ),
        _token_probe(
            lambda me, m, i: {"tenant": i, "role": "tenant-member"},
            "tenant",
            own=E(201, 403, 403, 201),
            foreign=E(404, 403, 403, 201),
            missing=E(404, 403, 403, 404),
        ),
        _token_probe(
            lambda me, m, i: {"tenant": me.name, "role": "viewer", "project": i},
            "project",
            own=E(201, 403, 403, 201),
            foreign=E(404, 403, 403, 404),
            missing=E(404, 403, 403, 404),
        ),
        # No tenant named: a tenant-admin's token is still for its own tenant; an operator's is fleet-wide.
        _token_probe(lambda me, m, i: {"role": "viewer"}, None, own=E(201, 403, 403, 201)),
        _token_probe(
            lambda me, m, i: {"tenant": me.name, "role": "tenant-admin"}, None, own=E(403, 403, 403, 201)
        ),
        _token_probe(lambda me, m, i: {"role": "operator"}, None, own=E(403, 403, 403, 201)),
    ],
    "GET /v1/tokens": [
        Probe(
            lambda me, m, i: Req("GET", "/v1/tokens"),
            E(200, 403, 403, 200),
            shows="token",
            then=_tokens_are_mine,
        )
    ],
    "DELETE /v1/tokens/{token_id}": [
        # Every token of the caller's tenant, its own last (a tenant-admin may revoke itself).
        by_id(
            "token-self-last",
            lambda me, m, i: Req("DELETE", f"/v1/tokens/{i}"),
            E(200, 403, 403, 200),
            E(404, 403, 403, 200),
            E(404, 403, 403, 404),
            then=_revoked_at_once,
        )
    ],
    "GET /v1/audit": [
        Probe(
            lambda me, m, i: Req("GET", "/v1/audit", params=ALL_OF_IT),
            E(200, 403, 403, 200),
            shows="tenant",
            then=_audit_is_mine,
        ),
        Probe(
            lambda me, m, i: Req("GET", "/v1/audit", params={**ALL_OF_IT, "action": "token.revoke"}),
            E(200, 403, 403, 200),
            shows="tenant",
            then=_revocations,
        ),
    ],
    "GET /v1/quotas": [listing("/v1/quotas", "tenant")],
    "PUT /v1/quotas": [
        by_id(  # a project's quota, named with the project's own tenant
            "project",
            lambda me, m, i: Req("PUT", "/v1/quotas", _quota(m.tenant_id, i)),
            E(200, 403, 403, 200),
            E(404, 404, 404, 200),
            ALL(404),
        ),
        by_id(  # another tenant's project under the caller's tenant
            "project",
            lambda me, m, i: Req("PUT", "/v1/quotas", _quota(me.tenant_id, i)),
            E(200, 403, 403, 200),
            E(404, 403, 403, 404),
            E(404, 403, 403, 404),
        ),
        by_id(  # a tenant's quota: operators only, whoever the tenant is
            "tenant",
            lambda me, m, i: Req("PUT", "/v1/quotas", _quota(i, None)),
            E(403, 403, 403, 200),
            E(403, 403, 403, 200),
            E(403, 403, 403, 404),
        ),
    ],
    "GET /v1/nodes": [listing("/v1/nodes", "live-instance")],
    "GET /v1/capacity/calendar": [plain("GET", "/v1/capacity/calendar", ALL(200), params={"model": "H100"})],
    "POST /v1/reservations/quote": [
        # A quote books nothing, but prices and checks quota for the project it names: another tenant's
        # project answers a tenant role like a missing one.
        by_id(
            "project",
            lambda me, m, i: Req("POST", "/v1/reservations/quote", _reserve(i)),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),
        )
    ],
    "POST /v1/reservations": [
        plain("POST", "/v1/reservations", E(201, 201, 403, 422), json=_reserve("")),
        by_id(
            "project",
            lambda me, m, i: Req("POST", "/v1/reservations", _reserve(i)),
            E(201, 201, 403, 201),
            E(404, 404, 403, 201),
            WRITE_MISSING,
        ),
    ],
    "GET /v1/reservations": [
        listing("/v1/reservations", "reservation"),
        listing("/v1/reservations", "live-reservation", params={"state": "scheduled"}),
    ],
    "GET /v1/reservations/{reservation_id}": [
        by_id(
            "reservation",
            lambda me, m, i: Req("GET", f"/v1/reservations/{i}"),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),
        )
    ],
    "POST /v1/reservations/{reservation_id}/cancel": [
        by_id(
            "live-reservation",
            lambda me, m, i: Req("POST", f"/v1/reservations/{i}/cancel"),
            WRITE_OWN,
            WRITE_FOREIGN,
            WRITE_MISSING,
        )
    ],
    "POST /v1/reservations/{reservation_id}/extend": [
        by_id(
            "live-reservation",
            lambda me, m, i: Req("POST", f"/v1/reservations/{i}/extend", {"hours": 1}),
            WRITE_OWN,
            WRITE_FOREIGN,
            WRITE_MISSING,
        )
    ],
    "POST /v1/instances": [
        plain("POST", "/v1/instances", E(201, 201, 403, 422), json={"model": "H100", "nodes": 1}),
        by_id(
            "project",
            lambda me, m, i: Req("POST", "/v1/instances", {"model": "H100", "nodes": 1, "project": i}),
            E(201, 201, 403, 201),
            E(404, 404, 403, 201),
            WRITE_MISSING,
        ),
    ],
    "GET /v1/instances": [listing("/v1/instances", "instance")],
    "GET /v1/instances/{instance_id}": [
        by_id(
            "instance",
            lambda me, m, i: Req("GET", f"/v1/instances/{i}"),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),
        )
    ],
    "POST /v1/instances/{instance_id}/stop": [
        by_id(
            "live-instance",
            lambda me, m, i: Req("POST", f"/v1/instances/{i}/stop"),
            WRITE_OWN,
            WRITE_FOREIGN,
            WRITE_MISSING,
        )
    ],
    "GET /v1/allocations/{allocation_id}/events": [
        by_id(
            "allocation",
            lambda me, m, i: Req("GET", f"/v1/allocations/{i}/events"),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),
        )
    ],
    "GET /v1/usage": _usage_like("/v1/usage"),
    "GET /v1/invoices/preview": _usage_like("/v1/invoices/preview"),
    "GET /v1/invoices": [
        listing("/v1/invoices", "invoice"),
        by_id(
            "tenant",
            lambda me, m, i: Req("GET", "/v1/invoices", params={"tenant": i}),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),
        ),
    ],
    "GET /v1/invoices/{invoice_id}": [
        by_id(
            "invoice",
            lambda me, m, i: Req("GET", f"/v1/invoices/{i}"),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),
        )
    ],
    "GET /v1/invoices/{invoice_id}/download": [_download("html"), _download("csv")],
    # node health (issue #10): operator-only, except notices and webhooks (a tenant's own)
    "GET /v1/node-health": [plain("GET", "/v1/node-health", OPERATOR_ONLY)],
    "GET /v1/nodes/{node}/health": [_node("GET", "health", None, OPERATOR_ONLY)],
    "GET /v1/nodes/{node}/events": [_node("GET", "events", None, OPERATOR_ONLY)],
    "POST /v1/nodes/{node}/cordon": [_node("POST", "cordon", {"reason": "matrix"}, OPERATOR_ONLY)],
    "POST /v1/nodes/{node}/uncordon": [
        _node("POST", "uncordon", {"reason": "matrix"}, E(403, 403, 403, 409))
    ],
    "POST /v1/nodes/{node}/drain": [_node("POST", "drain", {"reason": "matrix"}, OPERATOR_ONLY)],
    "POST /v1/nodes/{node}/repair": [
        _node("POST", "repair", {"reason": "matrix", "action": "reboot"}, E(403, 403, 403, 409))
    ],
    "POST /v1/nodes/{node}/return": [_node("POST", "return", {"reason": "matrix"}, E(403, 403, 403, 409))],
    "POST /v1/nodes/{node}/retire": [_node("POST", "retire", {"reason": "matrix"}, E(403, 403, 403, 422))],
    "POST /v1/nodes/{node}/maintenance": [
        Probe(
            lambda me, m, i: Req("POST", f"/v1/nodes/{me.node_ids[-1]}/maintenance", _far_window()),
            E(403, 403, 403, 201),
        )
    ],
    "GET /v1/maintenance": [plain("GET", "/v1/maintenance", OPERATOR_ONLY)],
    "DELETE /v1/maintenance/{window_id}": [
        plain("DELETE", "/v1/maintenance/mnt_0000000000000000", E(403, 403, 403, 404))
    ],
    "GET /v1/notices": [plain("GET", "/v1/notices", ALL(200))],
    # the SLA report: a tenant's own allocations; operators every tenant's, or the one named
    "GET /v1/sla": [
        plain("GET", "/v1/sla", ALL(200), then=_sla_lines_are_mine),
        by_id(
            "tenant",
            lambda me, m, i: Req("GET", "/v1/sla", params={"tenant": i}),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),
        ),
    ],
    "POST /v1/health-events": [
        Probe(
            lambda me, m, i: Req(
                "POST",
                "/v1/health-events",
                {
                    "events": [
                        {
                            "node": me.node_ids[0],
                            "component": "gpu",
                            "code": "79",
                            "severity": "warning",
                            "recommended_action": "reboot",
                        }
                    ]
                },
            ),
            OPERATOR_ONLY,
        )
    ],
    "POST /v1/webhooks": [
        plain(
            "POST",
            "/v1/webhooks",
            E(201, 403, 403, 403),
            json={"url": "https://matrix.example.com/h", "events": ["degraded"]},
        )
    ],
    "GET /v1/webhooks": [listing("/v1/webhooks", "webhook")],
    "DELETE /v1/webhooks/{webhook_id}": [
        by_id(
            "webhook",
            lambda me, m, i: Req("DELETE", f"/v1/webhooks/{i}"),
            E(204, 403, 403, 204),
            E(404, 403, 403, 204),
            E(404, 403, 403, 404),
        )
    ],
    "GET /v1/webhooks/{webhook_id}/deliveries": [
        by_id(
            "webhook",
            lambda me, m, i: Req("GET", f"/v1/webhooks/{i}/deliveries"),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),
        )
    ],
    # Slurm (docs/slurm.md), over the in-package cluster fakes (each tenant starts with two Slurm users);
    # the same routes on a real Slurm: tests/slurm/test_api.py
    "GET /v1/slurm/users": _slurm_users("GET", ALL(200)),
    "POST /v1/slurm/users": _slurm_users(
        "POST", E(201, 403, 403, 201), lambda m, k: f"n-{m.name}-{k}", as_json=True
    ),
    "DELETE /v1/slurm/users": _slurm_users(
        "DELETE", E(200, 403, 403, 200), lambda m, k: slurm_users(m.name)[k]
    ),
    "GET /v1/slurm/access/{allocation_id}": [
        by_id(
            "allocation",
            lambda me, m, i: Req("GET", f"/v1/slurm/access/{i}"),
            ALL(200),
            NOT_FOUND_BUT_OPERATOR,
            ALL(404),
        )
    ],
}


def _routes() -> list[str]:
    doc = ApiWorld.build().app.openapi()
    return [f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops]


ROUTES = _routes()
READ_ONLY = frozenset(r for r in ROUTES if r.startswith("GET "))


SENT: Counter[str] = Counter()  # probe requests per role (the checks' own requests not counted)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nisolation matrix requests: {sum(SENT.values())} {dict(SENT)}")


@pytest.fixture(scope="module")
def shared_world() -> IsolationWorld:
    """One world for the read-only routes; a route that changes things gets a fresh world per role."""
    return IsolationWorld.build()


def test_every_route_has_an_expectation_and_every_expectation_a_route() -> None:
    assert sorted(set(ROUTES) - set(EXPECTATIONS)) == [], "routes without an isolation expectation"
    assert sorted(set(EXPECTATIONS) - set(ROUTES)) == [], "expectations for routes the app does not serve"


def test_a_foreign_object_is_stated_to_answer_a_tenant_role_like_a_missing_one() -> None:
    for route, probes in EXPECTATIONS.items():
        for probe in probes:
            if probe.kind is None:
                continue
            for role in TENANT_ROLES:
                assert probe.foreign[role] == probe.missing[role], (route, role)
                if "{" in route:  # another tenant's id in the path is never served
                    assert not 200 <= probe.foreign[role] < 300, (route, role)


def _template(route: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(route.split(" ", 1)[1])))


def _error(response: Any) -> tuple[int, str | None]:
    try:
        body = response.json()
    except ValueError:
        return response.status_code, None
    return response.status_code, body.get("error") if isinstance(body, dict) else None


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("route", ROUTES)
def test_route_answers_each_role_as_documented(route: str, role: str, shared_world: IsolationWorld) -> None:
    probes = EXPECTATIONS.get(route)
    if probes is None:
        pytest.fail(f"{route} has no isolation expectation: add it to EXPECTATIONS")
    world = shared_world if route in READ_ONLY else IsolationWorld.build()
    me = world.marks[ME]
    token = ROLES[role](world)
    http = world.api.http(token)
    everyone = frozenset().union(*(m.strings() for m in world.marks.values()))
    foreign = everyone if role in UNAUTHENTICATED else world.others(ME)
    public = not route.split(" ", 1)[1].startswith("/v1/")
    pattern = _template(route)

    def expected(stated: dict[str, int]) -> int:
        if role in UNAUTHENTICATED:
            return 200 if public else 401
        return stated[role]

    def send(owner: Marks, ident: str, stated: dict[str, int], probe: Probe) -> Any:
        req = probe.request(me, owner, ident)
        assert pattern.fullmatch(req.path), (route, req.path)
        response = http.request(req.method, req.path, json=req.json, params=req.params)
        SENT[role] += 1
        where = (route, role, req.path, req.json, req.params, response.status_code, response.text[:300])
        assert response.status_code == expected(stated), where
        if role != "operator":
            sent = f"{req.path} {req.json} {req.params}"
            assert not leaked(response.text, foreign, sent), (leaked(response.text, foreign, sent), *where)
        if probe.then is not None and 200 <= response.status_code < 300:
            probe.then(world, role, response)
        return response

    for probe in probes:
        if probe.before is not None:
            assert route not in READ_ONLY, (route, "a read-only route shares its world: it sets nothing up")
            probe.before(world)
        if probe.kind is None:
            response = send(me, "", probe.own, probe)
            if probe.shows is not None and response.status_code == 200 and role not in UNAUTHENTICATED:
                owners = world.marks.values() if role == "operator" else [me]
                wanted = [i for m in owners for i in m.of(probe.shows)]
                assert wanted and all(i in response.text for i in wanted), (
                    route,
                    role,
                    wanted,
                    response.text,
                )
            continue
        nowhere = missing_marks(me)
        as_missing = [send(nowhere, absent, probe.missing, probe) for absent in nowhere.of(probe.kind)]
        others = [m for name, m in world.marks.items() if name != ME]
        for other in others:
            for ident in other.of(probe.kind):
                as_foreign = send(other, ident, probe.foreign, probe)
                if role in TENANT_ROLES:
                    assert _error(as_foreign) == _error(as_missing[0]), (route, role, ident, as_foreign.text)
        for ident in me.of(probe.kind):  # last: a caller may revoke its own token
            send(me, ident, probe.own, probe)


def test_a_token_revocation_answered_404_or_403_revokes_nothing() -> None:
    """The matrix checks what a refused DELETE /v1/tokens/{id} answers; here, that it changed nothing:
    every token of the other tenants, and of the caller's tenant under a member's or viewer's refused
    revocation, still authenticates."""
    world = IsolationWorld.build()
    me = world.marks[ME]
    dead = {secret for secrets in world.dead.values() for secret in secrets.values()}
    live = {i: s for i, s in world.secrets.items() if s not in dead}
    admin = world.api.http(world.token(ME, Role.TENANT_ADMIN))
    for name, marks in world.marks.items():
        if name == ME:
            continue
        for token_id in marks.token_ids:
            assert admin.delete(f"/v1/tokens/{token_id}").status_code == 404, token_id
    for role in (Role.TENANT_MEMBER, Role.VIEWER):
        http = world.api.http(world.token(ME, role))
        for token_id in me.token_ids:
            assert http.delete(f"/v1/tokens/{token_id}").status_code == 403, (role, token_id)
    for token_id, secret in live.items():
        assert world.api.http(secret).get("/v1/whoami").status_code == 200, token_id
    operator = world.api.http(world.api.operator)
    revoked = operator.get("/v1/audit", params={**ALL_OF_IT, "action": "token.revoke"}).json()["items"]
    wanted = sorted(_id_of(world, d["revoked"]) for d in world.dead.values())
    assert sorted(e["target"] for e in revoked) == wanted, revoked

"""Property-based fuzzing of the whole API from its OpenAPI schema (schemathesis), as every role: no
server errors, every response — success or error — conforms to the documented schema, status codes and
content types, and no answer to a tenant token carries another tenant's id or name. A revoked and an
expired token (see the world) get a 401 on every well-formed /v1 request, and no tenant's id or name.

The world is tests/integration/isolation_world.py: three tenants that each hold an object of every kind,
so the check on foreign ids has foreign ids to find. A case whose path names an object is also sent with
the caller's own id (the generated ids name nothing) and, for tenant roles, with another tenant's id and
with a missing id of the same shape: the two must answer alike, and never 2xx.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from neocloud.control.domain.tenancy import Role
from tests.integration.isolation_world import IsolationWorld, Marks, leaked, missing_id

# positive_data_acceptance expects every schema-valid request to succeed; business rules the schema
# cannot state (a model with no capacity, a project token without a tenant) rightly answer 422/409.
EXCLUDED = [positive_data_acceptance]
MAX_EXAMPLES = 20

WORLD = IsolationWorld.build()
ME = "alice-corp"
schema = schemathesis.openapi.from_asgi("/openapi.json", WORLD.api.app)

ROLES = {
    "tenant-admin": WORLD.token(ME, Role.TENANT_ADMIN),
    "tenant-member": WORLD.token(ME, Role.TENANT_MEMBER),
    "viewer": WORLD.token(ME, Role.VIEWER),
    "operator": WORLD.api.operator,
    "revoked": WORLD.dead[ME]["revoked"],  # revoked and expired after use: every /v1 answer is a 401
    "expired": WORLD.dead[ME]["expired"],
}
UNAUTHENTICATED = frozenset({"revoked", "expired"})
TENANT_ROLES = frozenset(ROLES) - {"operator"} - UNAUTHENTICATED
FOREIGN = WORLD.others(ME)
EVERYONE = frozenset().union(*(m.strings() for m in WORLD.marks.values()))
PRE_AUTH = frozenset({400, 405, 413, 415, 422})  # a malformed request, refused before its token is read
SENT: Counter[str] = Counter()  # requests per role, and 5xx / leaks seen (asserted to stay 0)


def _ids(marks: Marks, parameter: str) -> list[str]:
    """The ids of `marks`'s objects a path parameter of this name can name."""
    return marks.of(parameter.removesuffix("_id"))


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nschemathesis requests: {dict(SENT)}")


def _send(case: schemathesis.Case, role: str) -> Any:
    """Send the case with the role's token, except where its headers are negative on purpose (a token
    left out or malformed: putting a valid one in would make schemathesis judge a request it believes
    invalid, and the server rightly serves it); check the answer."""
    meta = case.meta
    header = meta.components.get(ParameterLocation.HEADER) if meta is not None else None
    if header is not None and header.mode is GenerationMode.NEGATIVE:
        response = case.call_and_validate(excluded_checks=EXCLUDED)
    else:
        auth = {"Authorization": f"Bearer {ROLES[role]}"}
        response = case.call_and_validate(headers=auth, excluded_checks=EXCLUDED)
    SENT[role] += 1
    if response.status_code >= 500:
        SENT["5xx"] += 1
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    if role in UNAUTHENTICATED and case.path.startswith("/v1/"):
        # Routing, body parsing and validation run before authentication: a request that is not one the
        # route serves (schemathesis breaks some on purpose) may be refused for that instead.
        assert response.status_code == 401 or response.status_code in PRE_AUTH, (
            case.method,
            case.formatted_path,
            response.text,
        )
        found = leaked(response.text, EVERYONE, f"{response.request.url} {response.request.body!r}")
        SENT["leaks"] += bool(found)
        assert not found, (case.method, case.formatted_path, found, response.text)
    if role in TENANT_ROLES:
        request = response.request
        sent = f"{request.url} {request.body!r}"
        found = leaked(response.text, FOREIGN, sent)
        SENT["leaks"] += bool(found)
        assert not found, (case.method, request.url, response.status_code, found, response.text)
    return response


def _error(response: Any) -> tuple[int, str | None]:
    try:
        body = response.json()
    except ValueError:
        body = None
    return response.status_code, body.get("error") if isinstance(body, dict) else None


def _with(case: schemathesis.Case, ids: dict[str, str]) -> schemathesis.Case:
    derived = case.derive()
    derived.path_parameters.update(ids)
    return derived


def _fuzz(case: schemathesis.Case, role: str) -> None:
    _send(case, role)
    path = case.meta.components.get(ParameterLocation.PATH) if case.meta is not None else None
    if not case.path_parameters or (path is not None and path.mode is GenerationMode.NEGATIVE):
        return
    n = SENT[role]
    own = {p: _ids(WORLD.marks[ME], p)[n % len(_ids(WORLD.marks[ME], p))] for p in case.path_parameters}
    _send(_with(case, own), role)
    if role not in TENANT_ROLES:
        return
    other = [m for name, m in WORLD.marks.items() if name != ME][n % (len(WORLD.marks) - 1)]
    foreign = {p: _ids(other, p)[n % len(_ids(other, p))] for p in case.path_parameters}
    as_foreign = _send(_with(case, foreign), role)
    as_missing = _send(_with(case, {p: missing_id(v) for p, v in foreign.items()}), role)
    assert not 200 <= as_foreign.status_code < 300, (case.method, foreign, as_foreign.text)
    assert _error(as_foreign) == _error(as_missing), (case.method, foreign, as_foreign.text, as_missing.text)


@pytest.mark.parametrize("role", sorted(ROLES))
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_as_every_role(case: schemathesis.Case, role: str) -> None:
    _fuzz(case, role)

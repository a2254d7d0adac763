"""Instances and allocation events over HTTP; health and readiness probes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient

from neocloud.api.app import create_app
from neocloud.bootstrap import Settings, build_services, upgrade_database
from neocloud.control.domain.tenancy import Principal, Role
from neocloud.kernel.errors import DomainError, Unauthenticated
from tests.integration.api_world import ApiWorld


@pytest.fixture
def world() -> ApiWorld:
    return ApiWorld.build()


def test_create_instance_returns_201_with_its_nodes(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post("/v1/instances", json={"model": "H100", "nodes": 2})
    assert r.status_code == 201
    assert (len(r.json()["nodes"]), r.json()["gpus"], r.json()["spot"]) == (2, 16, False)


def test_same_idempotency_key_returns_the_same_instance(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    body = {"model": "H100", "nodes": 1, "spot": True}
    a = http.post("/v1/instances", json=body, headers={"Idempotency-Key": "i-1"}).json()
    b = http.post("/v1/instances", json=body, headers={"Idempotency-Key": "i-1"}).json()
    assert a["id"] == b["id"] and http.get("/v1/instances").json()["total"] == 1


def test_instance_that_does_not_fit_is_409(world: ApiWorld) -> None:
    r = world.http(world.tokens["alice"]).post("/v1/instances", json={"model": "H100", "nodes": 3})
    assert (r.status_code, r.json()["error"]) == (409, "conflict")


def test_stop_ends_the_instance(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    iid = http.post("/v1/instances", json={"model": "H100", "nodes": 1}).json()["id"]
    world.control.reconcile()
    r = http.post(f"/v1/instances/{iid}/stop")
    assert r.status_code == 200 and r.json()["state"] in ("ending", "ended")


def test_events_follow_the_lifecycle(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    iid = http.post("/v1/instances", json={"model": "H100", "nodes": 1}).json()["id"]
    world.control.reconcile()
    world.control.reconcile()
    events = http.get(f"/v1/allocations/{iid}/events").json()
    assert events[0]["to_state"] == "requested"
    assert "active" in [e["to_state"] for e in events]


def test_another_tenants_events_are_not_found(world: ApiWorld) -> None:
    iid = (
        world.http(world.tokens["alice"])
        .post("/v1/instances", json={"model": "H100", "nodes": 1})
        .json()["id"]
    )
    assert world.http(world.tokens["bob"]).get(f"/v1/allocations/{iid}/events").status_code == 404


def test_healthz_needs_no_token(world: ApiWorld) -> None:
    assert world.http().get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_when_the_check_passes() -> None:
    services = SimpleNamespace(control=None, check_ready=lambda: None)
    assert TestClient(create_app(services)).get("/readyz").json() == {"status": "ready"}


class _Tenancy:
    """A tenancy service that knows one operator token and one tenant token."""

    def authenticate(self, secret: str) -> Principal:
        roles = {"nc_operator": Role.OPERATOR, "nc_tenant": Role.TENANT_ADMIN}
        if secret not in roles:
            raise Unauthenticated("unknown API token")
        return Principal(secret, roles[secret])

    def auth_epoch(self) -> int:
        return 0

    def now(self) -> datetime:
        return datetime.now(UTC)


def _not_migrated() -> None:
    class NotMigrated(DomainError):
        code = "not-migrated"

    raise NotMigrated(
        "the database postgresql://db.internal/neocloud has no schema: run `neocloud db upgrade`"
    )


def _readyz(check: Callable[[], None], token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(
        create_app(SimpleNamespace(control=SimpleNamespace(tenancy=_Tenancy()), check_ready=check))
    ).get("/readyz", headers=headers)


def test_readyz_is_503_with_the_reason_for_an_operator_when_not_migrated() -> None:
    r = _readyz(_not_migrated, "nc_operator")
    assert (r.status_code, r.json()["error"]) == (503, "not-migrated")
    assert "neocloud db upgrade" in r.json()["message"]


@pytest.mark.parametrize("token", [None, "nc_tenant", "nc_unknown"])
def test_readyz_says_only_not_ready_without_an_operator_token(token: str | None) -> None:
    r = _readyz(_not_migrated, token)
    assert r.status_code == 503 and r.headers["Retry-After"]
    assert r.json() == {"error": "not-ready", "message": "not ready", "details": {}}


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    def check() -> None:
        raise ConnectionRefusedError("connection refused to db.internal:5432")

    r = _readyz(check)
    assert (r.status_code, r.json()["error"]) == (503, "not-ready")
    assert "db.internal" not in r.text
    assert "db.internal" in _readyz(check, "nc_operator").json()["message"]


def test_openapi_docs_are_served(world: ApiWorld) -> None:
    assert world.http().get("/docs").status_code == 200
    assert "/v1/reservations" in world.http().get("/openapi.json").json()["paths"]


def test_readyz_on_a_real_unmigrated_database_is_503_without_naming_it(tmp_path: Path) -> None:
    services = build_services(Settings(data_dir=tmp_path), check=False)
    r = TestClient(create_app(services)).get("/readyz")
    assert r.status_code == 503 and r.json()["error"] == "not-ready" and str(tmp_path) not in r.text


def test_readyz_on_a_real_migrated_database_is_ready(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    upgrade_database(settings)
    assert TestClient(create_app(build_services(settings))).get("/readyz").status_code == 200

"""SIGKILL the server in the middle of a burst of reservations, restart it: every acknowledged request is
there exactly once (checked by idempotency key), nothing is half-written, and the reconciler finishes
what was in flight."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from neocloud.bench.process import ServerProcess
from neocloud.control.domain.tenancy import Role
from tests.builders import fleet, node
from tests.integration.api_world import fresh_postgres_database, migrated_services

pytestmark = pytest.mark.timeout(240)

THREADS, PER_THREAD, ACKS_BEFORE_KILL = 10, 15, 20
BODY = {"model": "H100", "gpus": 1, "hours": 1}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('kill') / 'neocloud.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


def _burst(url: str, token: str, acked: dict[str, str], attempted: list[str], lock: threading.Lock) -> None:
    def one(t: int) -> None:
        with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
            for n in range(PER_THREAD):
                key = f"burst-{t}-{n}"
                with lock:
                    attempted.append(key)
                try:
                    r = http.post("/v1/reservations", json=BODY, headers={"Idempotency-Key": key})
                except httpx.TransportError:
                    return  # the server died under us
                if r.status_code == 201:
                    with lock:
                        acked[key] = r.json()["id"]

    threads = [threading.Thread(target=one, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < ACKS_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.005)


@pytest.fixture(scope="module")
def after_kill(database: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp_path = tmp_path_factory.mktemp("server")
    services = migrated_services(database, tmp_path)
    control = services.control
    control.fleet.import_fleet(fleet(*(node(f"n{i}") for i in range(32))))
    control.tenancy.create_tenant("acme")
    token = control.tenancy.create_token("acme", Role.TENANT_ADMIN)[1]
    if services.engine is not None:
        services.engine.dispose()
    acked: dict[str, str] = {}
    attempted: list[str] = []
    lock = threading.Lock()
    log = tmp_path / "server.log"
    server = ServerProcess(database, data_dir=tmp_path, log=log).start()
    try:
        _burst(server.url, token, acked, attempted, lock)
        server.kill()
    finally:
        server.kill()
    time.sleep(0.5)  # let the burst threads see the dead socket
    with lock:
        acked_now, attempted_now = dict(acked), list(attempted)
    restarted = ServerProcess(database, data_dir=tmp_path, log=log).start()
    http = httpx.Client(base_url=restarted.url, timeout=30, headers={"Authorization": f"Bearer {token}"})
    try:
        yield http, acked_now, attempted_now
    finally:
        http.close()
        restarted.stop()


def _all_reservations(http: httpx.Client) -> list[dict]:  # type: ignore[type-arg]
    items: list[dict] = []  # type: ignore[type-arg]
    cursor = None
    while True:
        page = http.get(
            "/v1/reservations", params={"limit": 500, **({"cursor": cursor} if cursor else {})}
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_the_kill_happened_mid_burst(after_kill) -> None:  # type: ignore[no-untyped-def]
    _, acked, attempted = after_kill
    assert len(acked) >= ACKS_BEFORE_KILL and len(attempted) < THREADS * PER_THREAD


def test_every_acknowledged_reservation_survives_with_its_id(after_kill) -> None:  # type: ignore[no-untyped-def]
    http, acked, _ = after_kill
    ids = {r["id"] for r in _all_reservations(http)}
    assert set(acked.values()) <= ids


def test_retrying_every_key_after_restart_never_duplicates(after_kill) -> None:  # type: ignore[no-untyped-def]
    http, acked, attempted = after_kill
    again = {
        key: http.post("/v1/reservations", json=BODY, headers={"Idempotency-Key": key}) for key in attempted
    }
    assert all(r.status_code == 201 for r in again.values())
    assert all(again[key].json()["id"] == rid for key, rid in acked.items())
    assert len(_all_reservations(http)) == len(set(attempted))


def test_nothing_is_half_written(after_kill) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = after_kill
    for r in _all_reservations(http):
        assert r["allocation_id"] == r["id"] and r["gpus"] == 1 and len(r["nodes"]) == 1
        events = http.get(f"/v1/allocations/{r['id']}/events").json()
        assert events and events[0]["to_state"] == "requested"


def test_the_reconciler_finishes_what_was_in_flight(after_kill) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = after_kill
    deadline = time.monotonic() + 60
    states: set[str] = set()
    while time.monotonic() < deadline:
        states = {r["state"] for r in _all_reservations(http)}
        if states == {"active"}:
            break
        time.sleep(0.5)
    assert states == {"active"}

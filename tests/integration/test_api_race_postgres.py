"""60 HTTP clients race through two server processes on one PostgreSQL for the last free GPUs:
exactly as many win as fit, no GPU is held twice, and every loser gets a clear 409."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from neocloud.bench.process import ServerProcess
from neocloud.control.app.views import ReservationRequest
from neocloud.control.domain.tenancy import Role
from tests.builders import fleet, node
from tests.integration.api_world import fresh_postgres_database, migrated_services

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

CLIENTS = 60
NODES, FREE_NODES, GPUS_PER_NODE = 6, 2, 8


def _race(urls: list[str], token: str) -> list[httpx.Response]:
    barrier = threading.Barrier(CLIENTS)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with httpx.Client(
            base_url=urls[i % len(urls)], timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            barrier.wait()
            r = http.post(
                "/v1/reservations",
                json={"model": "H100", "gpus": GPUS_PER_NODE, "hours": 2},
                headers={"Idempotency-Key": f"race-{i}-{uuid.uuid4().hex[:8]}"},
            )
        with lock:
            answers.append(r)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return answers


@pytest.fixture(scope="module")
def raced(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    log = tmp_path_factory.mktemp("race") / "servers.log"
    with fresh_postgres_database() as url:
        services = migrated_services(url)
        control = services.control
        control.fleet.import_fleet(fleet(*(node(f"n{i}") for i in range(NODES))))
        control.tenancy.create_tenant("filler")
        filler = control.tenancy.authenticate(control.tenancy.create_token("filler", Role.TENANT_ADMIN)[1])
        for _ in range(NODES - FREE_NODES):  # leave only FREE_NODES nodes' worth of GPUs
            control.reservations.reserve(
                filler, ReservationRequest("H100", GPUS_PER_NODE, 24, datetime.now(UTC))
            )
        control.tenancy.create_tenant("racer")
        token = control.tenancy.create_token("racer", Role.TENANT_ADMIN)[1]
        operator = control.tenancy.create_token(None, Role.OPERATOR)[1]
        services.engine.dispose()
        servers = [ServerProcess(url, log=Path(log)).start() for _ in range(2)]
        try:
            answers = _race([s.url for s in servers], token)
            nodes = httpx.get(
                f"{servers[0].url}/v1/nodes",
                params={"limit": 500},
                headers={"Authorization": f"Bearer {operator}"},
            ).json()["items"]
            yield answers, nodes
        finally:
            for s in servers:
                s.stop()


def test_every_client_got_an_answer_and_none_was_a_server_error(raced) -> None:  # type: ignore[no-untyped-def]
    answers, _ = raced
    assert len(answers) == CLIENTS
    assert Counter(r.status_code for r in answers).keys() <= {201, 409}


def test_exactly_the_free_capacity_was_won(raced) -> None:  # type: ignore[no-untyped-def]
    answers, _ = raced
    assert sum(r.status_code == 201 for r in answers) == FREE_NODES


def test_every_loser_gets_a_clear_conflict(raced) -> None:  # type: ignore[no-untyped-def]
    answers, _ = raced
    losers = [r.json() for r in answers if r.status_code == 409]
    assert losers and all(b["error"] == "conflict" and "do not fit" in b["message"] for b in losers)


def test_no_gpu_is_held_by_two_allocations(raced) -> None:  # type: ignore[no-untyped-def]
    answers, nodes = raced
    held = Counter(a for n in nodes for a in n["gpu_allocations"] if a is not None)
    winners = [r.json() for r in answers if r.status_code == 201]
    assert all(held[w["id"]] == w["gpus"] for w in winners)
    assert sum(held.values()) <= NODES * GPUS_PER_NODE

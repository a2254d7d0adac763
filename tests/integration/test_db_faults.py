"""PostgreSQL faults seen from outside, on a cluster of the tests' own: stopped for seconds under a
keep-alive client, stopped under `neocloud worker`, and a process frozen (SIGSTOP) while it holds the
capacity lock. The answers are 503 with Retry-After on a connection that stays open, a worker that
backs off and carries on, and a healthy server that waits seconds, not forever."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from neocloud.bench.process import ServerProcess
from neocloud.control.app.views import InstanceRequest
from neocloud.control.domain.tenancy import Role
from tests.builders import fleet, node
from tests.integration.api_world import migrated_services
from tests.integration.private_postgres import PrivateCluster

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

OUTAGE_S = 3.0
LOCK_TIMEOUT_S, IDLE_IN_TRANSACTION_S = 3.0, 5.0  # infra.engine.PostgresTimeouts' defaults
BODY = {"model": "H100", "gpus": 1, "hours": 1}


@dataclass
class Db:
    cluster: PrivateCluster
    token: str
    tmp: Path
    control: Any = field(repr=False, default=None)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Db]:
    cluster = PrivateCluster.start()
    try:
        tmp = tmp_path_factory.mktemp("faults")
        services = migrated_services(cluster.url, tmp)
        services.control.fleet.import_fleet(fleet(*(node(f"n{i}") for i in range(64))))
        services.control.tenancy.create_tenant("acme")
        token = services.control.tenancy.create_token("acme", Role.TENANT_ADMIN)[1]
        yield Db(cluster, token, tmp, services.control)
        services.engine.dispose()
    finally:
        cluster.destroy()


def outage(cluster: PrivateCluster, seconds: float = OUTAGE_S) -> None:
    """The database stopped for `seconds`, then started again."""
    cluster.stop()
    try:
        time.sleep(seconds)
    finally:
        cluster.restart()


class KeepAlive:
    """One HTTP/1.1 connection, used for every request; it records the socket each answer came on."""

    def __init__(self, url: str, token: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.sockets: list[object] = []

    def send(
        self, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        self.conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        r = self.conn.getresponse()
        payload = json.loads(r.read() or b"null")
        self.sockets.append(self.conn.sock)  # None once the server closed the connection
        return r.status, {k.lower(): v for k, v in r.getheaders()}, payload


def test_an_outage_is_503_with_retry_after_on_a_connection_that_stays_open(db: Db) -> None:
    answers: list[tuple[int, dict[str, str], dict[str, Any]]] = []
    failures: list[BaseException] = []
    done = threading.Event()
    with ServerProcess(
        db.cluster.url, data_dir=db.tmp, reconcile_every=0, log=db.tmp / "outage.log"
    ) as server:
        client = KeepAlive(server.url, db.token)

        def load() -> None:
            n = 0
            while not done.is_set():
                n += 1
                try:
                    answers.append(client.send("GET", "/v1/reservations?limit=1"))
                    answers.append(client.send("POST", "/v1/reservations", BODY, key=f"outage-{n}"))
                except Exception as err:  # a reset: the client cannot tell what happened to its POST
                    failures.append(err)
                    return
                time.sleep(0.02)

        worker = threading.Thread(target=load, daemon=True)
        worker.start()
        time.sleep(1.0)
        outage(db.cluster)
        restarted = len(answers)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not failures:
            if any(status == 200 for status, _, _ in answers[restarted:]):
                break
            time.sleep(0.1)
        done.set()
        worker.join(10)
    assert failures == []
    statuses = {status for status, _, _ in answers}
    assert statuses <= {200, 201, 503} and 503 in statuses, statuses
    for status, headers, body in answers:
        if status == 503:
            assert int(headers["retry-after"]) > 0
            assert set(body) == {"error", "message", "details"} and body["error"] in (
                "unavailable",
                "busy",
            ), body
            assert "127.0.0.1" not in body["message"] and "psycopg" not in body["message"]
    assert any(status == 200 for status, _, _ in answers[restarted:]), "no recovery after the restart"
    assert len({id(sock) for sock in client.sockets}) == 1 and client.sockets[-1] is not None


def _allocation_state(url: str, allocation_id: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT state FROM allocations WHERE id = :id"), {"id": allocation_id}
            ).scalar()
    finally:
        engine.dispose()


def test_the_worker_backs_off_through_an_outage_and_carries_on(db: Db) -> None:
    log = db.tmp / "worker.log"
    acme = db.control.tenancy.authenticate(db.token)
    before = db.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    env = {**os.environ, "NEOCLOUD_DATABASE_URL": db.cluster.url, "NEOCLOUD_DATA_DIR": str(db.tmp)}
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from neocloud.cli.main import main; main()",
                "worker",
                "--interval",
                "0.1",
                "--meter-every",
                "0",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 30
        while _allocation_state(db.cluster.url, before.id) != "active" and time.monotonic() < deadline:
            time.sleep(0.1)  # the worker is up and reconciling
        outage(db.cluster)
        instance = db.control.instances.create_instance(acme, InstanceRequest("H100", 1))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and worker.poll() is None:
            if (
                _allocation_state(db.cluster.url, instance.id) == "active"
                and "succeed again" in log.read_text()
            ):
                break
            time.sleep(0.2)
        alive = worker.poll() is None
        state = _allocation_state(db.cluster.url, instance.id)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
    output = log.read_text()
    assert alive, output[-3000:]
    assert state == "active", output[-3000:]
    streak = [int(n) for n in re.findall(r"pass failed \((\d+) in a row\)", output)]
    assert streak and streak == list(range(1, len(streak) + 1)), output[-3000:]  # one line per step
    delays = [float(d) for d in re.findall(r"retrying in ([\d.]+)s", output)]
    assert delays == sorted(delays) and delays[-1] > delays[0], delays
    assert "passes succeed again" in output


HOLDER = """
import os, signal, sys
from neocloud.control.adapters.sql.store import SqlStore
from neocloud.infra.engine import make_engine
with SqlStore(make_engine(sys.argv[1]))() as uow:
    uow.claim_nodes([n.id for n in uow.nodes("H100")], wait=True)  # every node a decision could book
    print("locked", flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)
    uow.commit()
"""


def _stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def test_a_frozen_lock_holder_delays_the_healthy_server_by_seconds_only(db: Db) -> None:
    with ServerProcess(
        db.cluster.url, data_dir=db.tmp, reconcile_every=0, log=db.tmp / "frozen.log"
    ) as server:
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, db.cluster.url], stdout=subprocess.PIPE)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
            while not _stopped(holder.pid):
                time.sleep(0.01)
            frozen_at = time.monotonic()
            with httpx.Client(
                base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {db.token}"}
            ) as http:
                first = http.post("/v1/reservations", json=BODY, headers={"Idempotency-Key": "frozen"})
                waited = time.monotonic() - frozen_at
                assert waited < LOCK_TIMEOUT_S + 2.5, f"the healthy server waited {waited:.1f}s"
                assert first.status_code in (201, 503), first.text
                if first.status_code == 503:
                    assert first.json()["error"] == "busy" and int(first.headers["Retry-After"]) > 0
                answer = first
                while answer.status_code == 503 and time.monotonic() - frozen_at < IDLE_IN_TRANSACTION_S + 10:
                    time.sleep(0.5)
                    answer = http.post("/v1/reservations", json=BODY, headers={"Idempotency-Key": "frozen"})
                released = time.monotonic() - frozen_at
            assert answer.status_code == 201, answer.text
            assert released < IDLE_IN_TRANSACTION_S + 3, f"the lock was held for {released:.1f}s"
        finally:
            holder.send_signal(signal.SIGCONT)
            holder.kill()
            holder.wait(10)

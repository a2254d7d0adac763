"""Hot-path reads run through the app's read pool: at most `slots` of them in worker threads at once,
the others waiting on the event loop, and every one of them answered; SQLite servers bound it, others
do not."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest
from fastapi.testclient import TestClient

from neocloud.api.app import create_app
from neocloud.api.fairness import ReadPool
from neocloud.bootstrap import Settings, upgrade_database
from tests.control_builders import MEMORY, world


def _run_many(pool: ReadPool, works: int) -> tuple[int, list[int]]:
    """Start `works` reads that each wait until released; the most that ran at once, and the results."""
    lock = threading.Lock()
    inside = [0, 0]  # now, most
    release = threading.Event()

    def work(i: int) -> int:
        with lock:
            inside[0] += 1
            inside[1] = max(inside[1], inside[0])
        release.wait(30)
        with lock:
            inside[0] -= 1
        return i

    async def main() -> list[int]:
        tasks = [asyncio.ensure_future(pool.run(lambda i=i: work(i))) for i in range(works)]
        while True:  # until the pool is full (or every work is in, without a bound)
            await asyncio.sleep(0.01)
            with lock:
                if inside[0] == min(works, pool.slots or works):
                    break
        await asyncio.sleep(0.05)  # any work the pool let through wrongly would be inside by now
        release.set()
        return list(await asyncio.gather(*tasks))

    # an event loop of its own, on a thread of its own: another test's loop (Playwright's sync API, in the
    # browser tests) may still be running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as runner:
        done = runner.submit(asyncio.run, main()).result()
    return inside[1], done


@pytest.mark.timeout(60)
def test_a_read_pool_runs_at_most_its_slots_at_once_and_answers_every_read() -> None:
    most, done = _run_many(ReadPool(2), 7)
    assert most == 2
    assert done == list(range(7))


@pytest.mark.timeout(60)
def test_an_unbounded_read_pool_runs_every_read_at_once() -> None:
    most, done = _run_many(ReadPool(None), 5)
    assert most == 5
    assert done == list(range(5))


def test_a_read_pool_has_a_slot() -> None:
    with pytest.raises(ValueError):
        ReadPool(0)


def test_quote_list_and_show_go_through_the_read_pool(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'n.db'}"
    upgrade_database(Settings(database_url=url, data_dir=tmp_path))
    w = world(url, default_quota_gpus=None)
    assert w.services.read_slots == 2  # SQLite bounds reads; memory does not
    assert world(MEMORY).services.read_slots is None
    w.control.tenancy.create_tenant("acme")
    _, secret = w.control.tenancy.create_token("acme", "tenant-admin")
    app = create_app(w.services)
    seen: list[str] = []
    real = ReadPool.run

    async def counting(self: ReadPool, work):  # type: ignore[no-untyped-def]
        seen.append("read")
        return await real(self, work)

    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as http:
        ReadPool.run = counting  # type: ignore[method-assign]
        try:
            body = {"model": "H100", "gpus": 1, "hours": 1}
            assert http.post("/v1/reservations/quote", json=body).status_code == 200
            assert len(seen) == 1
            made = http.post("/v1/reservations", json=body)
            assert made.status_code == 201 and len(seen) == 1  # a write is not a read
            assert http.get("/v1/reservations").json()["total"] == 1
            assert http.get(f"/v1/reservations/{made.json()['id']}").status_code == 200
            assert len(seen) == 3
        finally:
            ReadPool.run = real  # type: ignore[method-assign]
    assert app.state.reads.slots == 2

# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""Many requests racing for the last free capacity: the database, not an in-process lock, keeps every
GPU booked at most once at any instant."""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import text

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.kernel.errors import Busy, Conflict
from tests.control_builders import engine, h100_fleet, world  # noqa: F401

pytestmark = pytest.mark.timeout(180)
RACERS = 56


def _overlaps(engine) -> list[tuple[str, int]]:
    """GPUs with two bookings that overlap in time, found by querying the allocation rows."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT node_id, slot, start_at, end_at FROM allocation_gpus")).all()
    by_gpu: dict[tuple[str, int], list[tuple]] = defaultdict(list)
    for node_id, slot, start, end in rows:
        by_gpu[(node_id, slot)].append((start, end))
    bad = []
    for gpu, spans in by_gpu.items():
        held = sorted(
            (s for s in spans if s[1] is None or s[1] > s[0]), key=lambda s: s[0]
        )  # empty spans hold nothing
        bad += [gpu for (_, e1), (s2, _) in itertools.pairwise(held) if e1 is None or e1 > s2]
    return bad


def _retrying_busy(attempt, i: int):  # type: ignore[no-untyped-def]
    """`attempt(i)`, retried as a client retries a 503: a lock wait that outlasted the database's lock
    timeout (a loaded machine) is Busy, which says "retry", not an answer to the race."""
    for tries in range(20):
        try:
            return attempt(i)
        except Busy:
            if tries == 19:
                raise
            time.sleep(0.05 * (tries + 1))
    raise AssertionError("unreachable")


def _race(n: int, attempt) -> tuple[list, list]:
    """Run `attempt(i)` in `n` threads released together (each retrying Busy as a client would); return
    (results, Conflicts). Any other error fails the race."""
    barrier = threading.Barrier(n)
    wins, losses, other = [], [], []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            result = _retrying_busy(attempt, i)
        except Conflict as err:
            with lock:
                losses.append(err)
        except Exception as err:
            with lock:
                other.append(err)
        else:
            with lock:
                wins.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not other, other[:3]
    return wins, losses


def test_racers_for_the_last_free_node_one_wins_and_the_rest_conflict(engine):
    w = world(engine, h100_fleet(4))
    acme = w.tenant("acme")
    w.control.reservations.reserve(
        acme, ReservationRequest("H100", 24, 4, shape="whole-nodes")
    )  # 1 node left
    wins, losses = _race(
        RACERS,
        lambda i: w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 2, shape="whole-nodes")),
    )
    assert len(wins) == 1 and len(losses) == RACERS - 1
    assert all("reasons" in err.details for err in losses)
    assert _overlaps(engine) == []


def test_racing_gpu_requests_fill_the_fleet_exactly(engine):
    w = world(engine, h100_fleet(2))
    tenants = [w.tenant(f"t{i}") for i in range(4)]
    wins, losses = _race(
        RACERS, lambda i: w.control.reservations.reserve(tenants[i % 4], ReservationRequest("H100", 1, 1))
    )
    assert len(wins) == 16 and len(losses) == RACERS - 16
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(DISTINCT node_id || ':' || slot) FROM allocation_gpus")
            ).scalar_one()
            == 16
        )
    assert _overlaps(engine) == []


def test_racing_instances_and_reservations_never_double_book(engine):
    w = world(engine, h100_fleet(4))
    acme = w.tenant("acme")

    def attempt(i: int):
        if i % 2:
            return w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
        return w.control.reservations.reserve(
            acme, ReservationRequest("H100", 8, 1, start=w.clock.now() + timedelta(minutes=30))
        )

    wins, _ = _race(RACERS, attempt)
    assert len(wins) == 4  # each node goes to one instance or one reservation
    assert _overlaps(engine) == []


def test_racers_with_one_idempotency_key_all_get_the_same_reservation(engine):
    w = world(engine, h100_fleet(4))
    acme = w.tenant("acme")
    wins, losses = _race(
        RACERS,
        lambda i: w.control.reservations.reserve(
            acme, ReservationRequest("H100", 8, 1), idempotency_key="once"
        ),
    )
    assert losses == [] and len({r.id for r in wins}) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM allocations")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM allocation_gpus")).scalar_one() == 8

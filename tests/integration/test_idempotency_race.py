"""Two requests with one idempotency key at once, on PostgreSQL, forced into the worst interleaving: the
second reads the key as free (the first has inserted its allocation but not committed), decides, and
inserts. The unique constraint on (tenant, key) makes that insert wait for the first's commit and fail;
the second request then starts again and answers as for any reused key: the first reservation for the
same request, IdempotencyConflict for another. One allocation in all, whatever the timing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from neocloud.control.adapters.sql.store import SqlUnitOfWork
from neocloud.control.app import admit as admit_module
from neocloud.control.app.views import ReservationRequest
from neocloud.kernel.errors import IdempotencyConflict
from tests.control_builders import h100_fleet, migrated_engine, world

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_engine("postgres", tmp_path)


def _interleaved(pg: Engine, monkeypatch: pytest.MonkeyPatch, second: ReservationRequest) -> dict[str, Any]:
    """The first request (8 GPUs, 1 hour, key "k") stops before its commit until the second request, with
    the same key, has read the key as free and is inserting its own allocation; then the first commits.
    Returns both outcomes and how many units of work admission ran."""
    w = world(pg, h100_fleet(4), default_quota_gpus=None)  # no quota: no tenant lock to serialise them
    acme = w.tenant("acme")
    holding, release, inserting = threading.Event(), threading.Event(), threading.Event()
    commit, add = SqlUnitOfWork.commit, SqlUnitOfWork.add_allocation

    def noted_add(self: SqlUnitOfWork, alloc: Any) -> None:
        if threading.current_thread().name == "second":
            inserting.set()  # it read the key as free: the first has not committed
        add(self, alloc)

    def held_commit(self: SqlUnitOfWork) -> None:
        if threading.current_thread().name == "first":
            holding.set()
            assert release.wait(60)
        commit(self)

    runs: list[str] = []
    once = admit_module._admit_once

    def counted(*args: Any, **kw: Any) -> Any:
        runs.append(threading.current_thread().name)
        return once(*args, **kw)

    monkeypatch.setattr(SqlUnitOfWork, "commit", held_commit)
    monkeypatch.setattr(SqlUnitOfWork, "add_allocation", noted_add)
    monkeypatch.setattr(admit_module, "_admit_once", counted)
    out: dict[str, Any] = {}

    def run(name: str, req: ReservationRequest) -> None:
        try:
            out[name] = w.control.reservations.reserve(acme, req, idempotency_key="k")
        except Exception as err:  # the outcome under test, read by the caller
            out[name] = err

    first = threading.Thread(target=run, name="first", args=("first", ReservationRequest("H100", 8, 1)))
    first.start()
    assert holding.wait(60)
    other = threading.Thread(target=run, name="second", args=("second", second))
    other.start()
    out["interleaved"] = inserting.wait(60)
    release.set()
    first.join(60)
    other.join(60)
    with pg.connect() as conn:
        out["allocations"] = conn.execute(text("SELECT count(*) FROM allocations")).scalar_one()
    out["runs"] = runs
    return out


def test_the_same_request_twice_at_once_gets_the_first_reservation(pg, monkeypatch):
    out = _interleaved(pg, monkeypatch, ReservationRequest("H100", 8, 1))
    assert out["interleaved"]  # the second read the key as free while the first was open
    assert not isinstance(out["first"], Exception), out["first"]
    assert not isinstance(out["second"], Exception), out["second"]
    assert out["second"].id == out["first"].id
    assert out["runs"].count("second") == 2  # its insert lost, and it started again
    assert out["allocations"] == 1


def test_another_request_with_the_key_at_once_is_an_idempotency_conflict(pg, monkeypatch):
    out = _interleaved(pg, monkeypatch, ReservationRequest("H100", 8, 2))
    assert out["interleaved"]
    assert not isinstance(out["first"], Exception), out["first"]
    assert isinstance(out["second"], IdempotencyConflict), out["second"]
    assert out["first"].id in str(out["second"])
    assert out["allocations"] == 1

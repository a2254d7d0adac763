"""Admission locks what a decision depends on — the nodes it books — so decisions on different nodes
never wait for each other (hardening: one capacity lock per GPU model serialised the whole fleet)."""

from __future__ import annotations

import threading

import pytest

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from tests.control_builders import h100_fleet, migrated_engine, world

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


@pytest.fixture
def pg(tmp_path):
    yield from migrated_engine("postgres", tmp_path)


def _hold(w, node_ids: list[str]) -> tuple[threading.Event, threading.Event, threading.Thread]:
    """A concurrent decision (another process, in production) that has claimed `node_ids` and not yet
    committed; it holds them until `done` is set."""
    held, done = threading.Event(), threading.Event()

    def run() -> None:
        with w.control.deps.uow() as uow:
            assert uow.claim_nodes(node_ids, wait=True) == set(node_ids)
            held.set()
            done.wait(60)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert held.wait(30)
    return held, done, t


def test_a_decision_does_not_wait_for_nodes_another_decision_holds(pg) -> None:
    w = world(pg, h100_fleet(4))
    acme = w.tenant("acme")
    _, done, holder = _hold(w, ["h00", "h01"])
    try:
        # Whatever the policy would prefer, the claimed nodes are skipped, not waited for: with the old
        # per-model lock this call blocked until the holder committed (or the lock timeout, a 503).
        r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, shape="whole-nodes"))
        i = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
        assert holder.is_alive()  # still holding while both were admitted
    finally:
        done.set()
        holder.join(30)
    assert set(r.nodes).isdisjoint({"h00", "h01"}) and set(i.nodes).isdisjoint({"h00", "h01"})
    assert set(r.nodes) != set(i.nodes)


def test_claiming_skips_held_nodes_and_reports_what_it_got(pg) -> None:
    w = world(pg, h100_fleet(4))
    _, done, holder = _hold(w, ["h00"])
    try:
        with w.control.deps.uow() as uow:
            assert uow.claim_nodes(["h00", "h02"], wait=False) == {"h02"}
    finally:
        done.set()
        holder.join(30)
    with w.control.deps.uow() as uow:
        assert uow.claim_nodes(["h00", "h02"], wait=False) == {"h00", "h02"}

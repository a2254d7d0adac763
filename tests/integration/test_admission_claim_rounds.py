"""Claim rounds on PostgreSQL (control/app/admit.py): a decision that loses a claim, or whose check
finds its nodes booked meanwhile, decides again on the reads it has (`Seen`) instead of reading the
fleet's bookings again; and never books a GPU twice doing so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from neocloud.control.app.views import ReservationRequest
from tests.control_builders import h100_fleet, migrated_engine, world

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

TAKEN = "string_agg"  # the GPUs taken over the window, of the whole model
VERSION = "max(nodes.ordinal)"  # the node set's version and the node states
CLAIM = "FOR UPDATE SKIP LOCKED"
CHECK = "AS owner"  # the bookings of the claimed nodes, read after the claim


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_engine("postgres", tmp_path)


def _count(seen: list[str], kind: str) -> int:
    return sum(kind in s for s in seen)


def _gpus(w, allocation_id: str) -> set[tuple[str, int]]:
    with w.control.deps.uow(read_only=True) as uow:
        return {(b.node_id, b.slot) for b in uow.bookings_of(allocation_id)}


def _recording(engine: Engine, during: list[bool]) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if during[0]:
            seen.append(" ".join(statement.split()))

    return seen


def test_a_lost_claim_decides_again_on_the_same_reads(pg):
    w = world(pg, h100_fleet(4), default_quota_gpus=None)
    acme = w.tenant("acme")
    first = w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1))
    assert w.services.engine is not None
    during = [True]
    seen = _recording(w.services.engine, during)
    with w.control.deps.uow() as other:  # another process's decision holds the packer's choice
        assert other.claim_nodes(first.nodes, wait=True) == set(first.nodes)
        second = w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1))
    during[0] = False
    assert set(second.nodes).isdisjoint(first.nodes)
    assert _count(seen, CLAIM) == 2  # the lost claim and the one it won
    assert _count(seen, TAKEN) == 1 and _count(seen, VERSION) == 1  # read once, decided on twice


def test_nodes_booked_between_the_read_and_the_claim_are_refreshed_not_reread(pg):
    w = world(pg, h100_fleet(4), default_quota_gpus=None)
    acme, other = w.tenant("acme"), w.tenant("other")
    first = w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1))  # the packer's node
    node = first.nodes[0]
    assert w.services.engine is not None
    during, filled = [True], []

    @event.listens_for(w.services.engine, "after_cursor_execute")
    def fill(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if TAKEN in statement and not filled:  # after the decision read the bookings, before its claim:
            filled.append(True)  # another decision fills the rest of that node, and commits
            filled.append(w.control.reservations.reserve(other, ReservationRequest("H100", 7, 1)))

    seen = _recording(w.services.engine, during)
    late = w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1))
    during[0] = False
    rival = filled[1]
    assert rival.nodes == [node]  # the rival took the other 7 GPUs of the node the decision had chosen
    assert late.nodes != [node]  # so it was placed elsewhere, after its check found them booked
    assert not _gpus(w, late.id) & (_gpus(w, rival.id) | _gpus(w, first.id))
    # one read of the fleet's bookings for the decision and one for the rival; the node found booked was
    # refreshed from the check's read, not by reading the fleet again
    assert _count(seen, TAKEN) == 2
    assert _count(seen, CLAIM) == 3  # the rival's, the claim of the filled node, and of the other node


def test_when_the_rounds_are_spent_what_fits_on_the_nodes_it_holds_is_admitted(pg, monkeypatch):
    """Its one round (the last) waited for the node it chose and found its GPU booked meanwhile: the
    node's other GPUs, as read under its lock, still fit, so it is admitted there (on main: a 409
    "contended" with 1,000 GPUs free)."""
    from neocloud.control.app import admit

    monkeypatch.setattr(admit, "CLAIM_ROUNDS", 1)
    w = world(pg, h100_fleet(4), default_quota_gpus=None)
    acme, other = w.tenant("acme"), w.tenant("other")
    first = w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1))
    node = first.nodes[0]
    assert w.services.engine is not None
    rivals: list = []

    @event.listens_for(w.services.engine, "after_cursor_execute")
    def rival(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if TAKEN in statement and not rivals:  # between its read and its claim, another takes a GPU
            rivals.append(None)
            rivals.append(w.control.reservations.reserve(other, ReservationRequest("H100", 1, 1)))

    late = w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1))
    assert rivals[1].nodes == [node] and late.nodes == [node]
    mine, theirs = _gpus(w, late.id), _gpus(w, rivals[1].id) | _gpus(w, first.id)
    assert len(mine) == 1 and not mine & theirs

"""`holders` reads only the nodes asked for: one bookings read per GPU model filtered to those nodes,
and the node table once per process (a node's model never changes), not on every call."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest

from neocloud.control.app.views import ReservationRequest
from neocloud.kernel.errors import NotFound
from neocloud.kernel.ids import NodeId
from tests.control_builders import T0, h100_fleet
from tests.health_builders import health_world


class Reads:
    def __init__(self) -> None:
        self.node_tables = 0
        self.bookings: list[tuple[str, list[str] | None]] = []


class CountingUow:
    def __init__(self, inner: Any, reads: Reads) -> None:
        self._inner, self._reads = inner, reads

    def __enter__(self) -> CountingUow:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    def nodes(self, model: str | None = None) -> Any:
        self._reads.node_tables += 1
        return self._inner.nodes(model)

    def bookings(
        self, model: str, start: datetime, end: datetime | None, nodes: Sequence[str] | None = None
    ) -> Any:
        self._reads.bookings.append((model, None if nodes is None else sorted(nodes)))
        return self._inner.bookings(model, start, end, nodes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _counted(w: Any) -> Reads:
    reads = Reads()
    control = w.control.nodes
    inner = control._deps.uow
    control._deps = dataclasses.replace(control._deps, uow=lambda **kw: CountingUow(inner(**kw), reads))
    return reads


def test_holders_of_reads_the_asked_nodes_bookings_only_and_the_node_table_once() -> None:
    w, _ = health_world(fleet_=h100_fleet(8, per_su=4))
    acme = w.tenant("acme")
    a = w.control.reservations.reserve(acme, ReservationRequest("H100", 16, 24, shape="whole-nodes"))
    w.control.reconcile()
    reads = _counted(w)
    held, free = NodeId(a.nodes[0]), NodeId(next(n for n in (f"h0{i}" for i in range(8)) if n not in a.nodes))

    got = w.control.nodes.holders_of([held, free, held], T0)
    assert set(got) == {held, free}
    assert [h.allocation.id for h in got[held]] == [a.id] and got[held][0].gpus_on_node == 8
    assert got[free] == []
    assert reads.bookings == [("H100", sorted([held, free]))]  # one read, filtered to the two nodes
    assert reads.node_tables == 1  # the first call learns the models

    for _ in range(3):
        assert [h.allocation.id for h in w.control.nodes.holders(held, T0)] == [a.id]
    assert reads.node_tables == 1  # later calls never read the node table again
    assert reads.bookings[1:] == [("H100", [held])] * 3


def test_an_unknown_node_is_not_found_and_costs_one_node_table_read() -> None:
    w, _ = health_world(fleet_=h100_fleet(2, per_su=2))
    reads = _counted(w)
    w.control.nodes.holders(NodeId("h00"), T0)
    with pytest.raises(NotFound):
        w.control.nodes.holders(NodeId("nope"), T0)
    assert reads.node_tables == 2 and all(nodes is not None for _, nodes in reads.bookings)


def test_a_tick_reads_the_holders_of_every_draining_node_at_once() -> None:
    from datetime import timedelta

    from neocloud.health.domain.lifecycle import DrainMode, NodeState

    w, health = health_world(fleet_=h100_fleet(8, per_su=4))
    op, acme = w.operator(), w.tenant("acme")
    rsv = w.control.reservations.reserve(acme, ReservationRequest("H100", 16, 24, shape="whole-nodes"))
    w.control.reconcile()
    idle = [NodeId(n) for n in (f"h0{i}" for i in range(8)) if n not in rsv.nodes][:2]
    for n in (*rsv.nodes, *idle):
        health.drain(op, NodeId(n), "firmware", mode=DrainMode.ALLOW_COMPLETION, timeout=timedelta(hours=2))
    reads = _counted(w)
    health.tick()
    first = reads.bookings[0]
    assert first == ("H100", sorted([*rsv.nodes, *idle]))  # one read for the four draining nodes
    states = {h.node: h.state for h in health.nodes(op)}
    assert [states[n] for n in idle] == [NodeState.OUT_OF_SERVICE] * 2  # nothing held: drained
    assert [states[NodeId(n)] for n in rsv.nodes] == [NodeState.DRAINING] * 2  # work still running

"""The placement decision latency histogram: one observation per decision, however many claim rounds
an admission took, and replacement decisions under their own label."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta
from typing import Any

from neocloud.control.app import admit
from neocloud.control.app.placement_timing import REPLACEMENT, PlacementTimings
from neocloud.control.domain.shapes import Shape
from neocloud.fleet.capacity import Capacity
from neocloud.kernel.products import Product
from neocloud.placement.framework import Placer, Verdict
from neocloud.placement.request import Request
from tests.control_builders import T0, h100_fleet, world
from tests.health_builders import health_world, observation


class CountingPlacer:
    def __init__(self, inner: Placer) -> None:
        self.inner, self.calls = inner, 0

    def place(self, req: Request, cap: Capacity, rng: random.Random) -> Verdict:
        self.calls += 1
        return self.inner.place(req, cap, rng)


class FirstClaimLost:
    """A unit of work whose first claim finds the chosen nodes held by another decision."""

    def __init__(self, inner: Any, state: dict[str, int]) -> None:
        self._inner, self._state = inner, state

    def __enter__(self) -> FirstClaimLost:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    def claim_nodes(self, node_ids: Any, *, wait: bool) -> set[str]:
        self._state["claims"] += 1
        if self._state["claims"] == 1:
            return set()
        return self._inner.claim_nodes(node_ids, wait=wait)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_an_admission_of_several_claim_rounds_is_one_observation() -> None:
    w = world(fleet_=h100_fleet(4, per_su=4))
    acme = w.tenant("acme")
    state = {"claims": 0}
    inner_uow = w.control.deps.uow
    placer = CountingPlacer(w.control.deps.placer)
    deps = dataclasses.replace(
        w.control.deps,
        uow=lambda **kw: FirstClaimLost(inner_uow(**kw), state),
        placer=placer,
        placement_timings=PlacementTimings(),
    )
    req = admit.AdmissionRequest(
        Product.RESERVED, "H100", Shape.WHOLE_NODES, 8, T0, T0 + timedelta(hours=5), 0
    )
    placed = admit.admit(deps, acme, req, T0)
    assert placed.nodes and state["claims"] == 2 and placer.calls >= 2  # two rounds, two placements
    snap = deps.placement_timings.snapshot()
    assert list(snap) == ["reserved"] and snap["reserved"].count == 1  # one decision
    assert snap["reserved"].total > 0


def test_a_move_to_another_nvlink_domain_is_observed_as_a_replacement_decision() -> None:
    from neocloud.control.app.views import ReservationRequest

    w, health = health_world(nvl72_spares=0)  # two racks, no spares: the move goes to the other rack
    acme = w.tenant("acme")
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 72, 24, shape="one-nvl72"))
    w.control.reconcile()
    before = w.control.deps.placement_timings.snapshot()
    assert REPLACEMENT not in before
    health.observe(observation(rsv.nodes[0], w.clock.now()))
    moved = w.control.reservations.get_reservation(acme, rsv.id)
    assert not set(moved.nodes) & set(rsv.nodes)  # the whole domain moved
    snap = w.control.deps.placement_timings.snapshot()
    assert snap[REPLACEMENT].count == 1 and snap[REPLACEMENT].total > 0
    assert snap["reserved"].count == before["reserved"].count  # the admission's own, unchanged

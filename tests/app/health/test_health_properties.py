"""Hypothesis properties of the health loop (memory store, virtual clock):
- a node not in service (or held as a spare) never receives new work;
- for any sequence of failures and repairs, each allocation's credit is the schedule's tier for its
  measured availability (checked against a minute-by-minute count), issued once per period;
- a replay of the same events yields the same credits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neocloud.control.app.views import ReservationRequest
from neocloud.health.domain.lifecycle import NodeState
from neocloud.health.domain.sla import DOMAIN_SHAPES, SlaTerms, credit
from neocloud.kernel.errors import Conflict, InvalidTransition
from neocloud.kernel.health import RecommendedAction
from neocloud.kernel.ids import NodeId
from neocloud.kernel.money import Money
from neocloud.kernel.periods import Period
from tests.control_builders import T0
from tests.health_builders import health_world, nvl72_fleet, observation

PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NODES = [f"r{r}t{t:02d}" for r in range(2) for t in range(18)]

ops = st.lists(
    st.tuples(
        st.sampled_from(["cordon", "uncordon", "drain", "fail", "repair", "return", "reserve", "tick"]),
        st.sampled_from(NODES),
        st.integers(min_value=1, max_value=8),  # GPUs-per-tray multiple / hours
    ),
    min_size=1,
    max_size=25,
)


@PROPS
@given(steps=ops, spares=st.integers(min_value=0, max_value=2))
def test_a_node_not_in_service_never_receives_new_work(
    steps: list[tuple[str, str, int]], spares: int
) -> None:
    w, health = health_world(fleet_=nvl72_fleet(2), nvl72_spares=spares)
    op, acme = w.operator(), w.tenant("acme")
    for op_name, node, k in steps:
        w.clock.advance(timedelta(minutes=30))
        n = NodeId(node)
        try:
            if op_name == "cordon":
                health.cordon(op, n, "p")
            elif op_name == "uncordon":
                health.uncordon(op, n, "p")
            elif op_name == "drain":
                health.drain(op, n, "p")
            elif op_name == "fail":
                health.observe(observation(node, w.clock.now()))
            elif op_name == "repair":
                health.repair(op, n, RecommendedAction.REBOOT, "p", w.clock.now() + timedelta(minutes=20))
            elif op_name == "return":
                health.return_(op, n, "p")
            elif op_name == "tick":
                health.tick()
            else:
                before = {h.node: h for h in health.nodes(op)}
                rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 4 * k, k, shape="any"))
                for placed in rsv.nodes:
                    h = before[NodeId(placed)]
                    assert h.state is NodeState.IN_SERVICE and not h.spare, (placed, h)
        except (InvalidTransition, Conflict):
            pass


failures = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=17),  # a tray of the reserved rack
        st.integers(min_value=0, max_value=23 * 60),  # minute of the day it fails
        st.integers(min_value=1, max_value=36 * 60),  # minutes its repair takes
    ),
    max_size=6,
)


def _play(
    spares: int, events: list[tuple[int, int, int]]
) -> tuple[list[tuple[str, str, bool]], object, object]:
    w, health = health_world(fleet_=nvl72_fleet(2), nvl72_spares=spares)
    op, acme = w.operator(), w.tenant("acme")
    gpus = 4 * (18 - spares)
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", gpus, 24, T0, shape="one-nvl72"))
    w.control.reconcile()
    rack = rsv.nodes[0][:2]  # the reservation's rack, wherever placement put it
    for tray, minute, repair in sorted(events, key=lambda e: e[1]):
        node = f"{rack}t{tray:02d}"
        at = T0 + timedelta(minutes=minute)
        w.clock.set(max(at, w.clock.now()))
        health.tick()
        out = health.observe(observation(node, w.clock.now(), action=RecommendedAction.REPLACE))
        if out.decision == "quarantine":
            health.repair(
                op, NodeId(node), RecommendedAction.REPLACE, "p", w.clock.now() + timedelta(minutes=repair)
            )
    march = Period.month(2026, 3)
    w.clock.set(march.end + timedelta(hours=1))
    health.tick()
    report = health.sla.report(op, march)
    first = health.sla.issue_credits(op, march)
    second = health.sla.issue_credits(op, march)
    assert second == []
    lines = [(x.allocation, x.credit, x.issued) for x in health.sla.report(op, march).lines]
    return lines, (rsv, report, first, health, op), w


@PROPS
@given(events=failures, spares=st.integers(min_value=0, max_value=2))
def test_credit_is_the_tier_of_the_measured_availability_issued_once(
    events: list[tuple[int, int, int]], spares: int
) -> None:
    lines, (rsv, report, first, health, op), _ = _play(spares, events)  # type: ignore[misc]
    line = next(x for x in report.lines if x.allocation == rsv.id)
    # The oracle: count, minute by minute over the reservation's 24 h, whether any outage covered it.
    outages = health.outages(op, rsv.id)
    start = rsv.start
    short = 0
    for m in range(24 * 60):
        t0, t1 = start + timedelta(minutes=m), start + timedelta(minutes=m + 1)
        if any(o.start < t1 and (o.end is None or o.end > t0) for o in outages):
            short += 1
    assert all(o.shape in DOMAIN_SHAPES for o in outages)
    exact_minutes = all(o.start.second == 0 and (o.end is None or o.end.second == 0) for o in outages)
    avail = Fraction(24 * 60 - short, 24 * 60)
    if exact_minutes:
        assert line.availability == avail
    share = SlaTerms.default().credit_share(line.availability)
    assert line.credit_pct == f"{share * 100:.0f}"
    assert Money.of(line.credit, "USD") == credit(Money.of(line.charge, "USD"), share)
    issued = [c for c in first if c.allocation == rsv.id]
    assert len(issued) == (1 if share > Decimal(0) else 0)
    assert all(x[2] for x in lines if Money.of(x[1], "USD").minor > 0)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=failures, spares=st.integers(min_value=0, max_value=2))
def test_a_replay_of_the_same_events_yields_the_same_credits(
    events: list[tuple[int, int, int]], spares: int
) -> None:
    a, _, _ = _play(spares, events)
    b, _, _ = _play(spares, events)
    assert [(credit_, issued) for _, credit_, issued in a] == [(credit_, issued) for _, credit_, issued in b]

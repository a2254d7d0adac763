# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""The closed loop on every database (memory, SQLite, PostgreSQL): an HBM failure on a node of an
active NVL72 reservation → quarantine → drain → spare swapped in → the tenant's notices show it →
repair → burn-in → back in service → the month's invoice carries the right SLA credit, once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from neocloud.bootstrap import build_health
from neocloud.control.app.views import ReservationRequest
from neocloud.health.domain.lifecycle import NodeState
from neocloud.health.domain.notices import NoticeKind
from neocloud.kernel.health import RecommendedAction
from neocloud.kernel.ids import NodeId
from neocloud.kernel.money import Money
from neocloud.kernel.periods import Period
from tests.control_builders import T0, database  # noqa: F401  (fixture)
from tests.health_builders import health_world, observation


def test_hbm_failure_on_an_nvl72_reservation_is_replaced_repaired_and_credited(database: str) -> None:
    w, health = health_world(database, nvl72_spares=2)
    op, acme = w.operator(), w.tenant("acme")
    # 2 spare trays per NVLink domain: each rack sells 16 trays (64 GPUs) in one domain.
    assert sorted(n for n, s in w.control.nodes.node_states().items() if s == "spare") == [
        "r0t16",
        "r0t17",
        "r1t16",
        "r1t17",
    ]
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 64, 24, shape="one-nvl72"))
    w.control.reconcile()
    assert w.control.reservations.get_reservation(acme, rsv.id).state == "active"
    domain = rsv.nodes[0][:2]
    assert all(n.startswith(domain) for n in rsv.nodes)

    failed = rsv.nodes[3]
    w.clock.advance(timedelta(hours=2))
    out = health.observe(observation(failed, w.clock.now()))  # XID 48, HBM: contact support (RMA)
    assert (out.decision, out.state) == ("quarantine", NodeState.OUT_OF_SERVICE)
    states = [e.to_state for e in health.events(op, NodeId(failed))]
    assert states == [NodeState.DRAINING, NodeState.OUT_OF_SERVICE]

    after = w.control.reservations.get_reservation(acme, rsv.id)
    assert failed not in after.nodes and len(after.nodes) == 16
    spare = next(n for n in after.nodes if n not in rsv.nodes)
    assert spare in (f"{domain}t16", f"{domain}t17")  # an in-domain spare
    assert w.control.nodes.node_states()[failed] == "out-of-service"
    notices = health.notices(acme)
    assert [n.kind for n in notices] == [NoticeKind.REPLACED]
    assert failed not in notices[0].message and notices[0].allocation == rsv.id
    assert health.notices(w.tenant("globex")) == []

    # RMA: the operator starts the repair; it ends (burn-in) on return; 24 h burn-in, then in service.
    health.repair(
        op,
        NodeId(failed),
        RecommendedAction.CONTACT_SUPPORT,
        "RMA the GPU",
        w.clock.now() + timedelta(days=3),
    )
    w.clock.advance(timedelta(days=3))
    health.tick()
    assert health.node(op, NodeId(failed)).state is NodeState.BURN_IN
    w.clock.advance(timedelta(hours=24))
    health.tick()
    back = health.node(op, NodeId(failed))
    assert back.state is NodeState.IN_SERVICE
    spares = [h.node for h in health.nodes(op) if h.spare and h.node.startswith(domain)]
    assert len(spares) == 2  # the domain has its spares again
    assert [e.to_state for e in health.events(op, NodeId(failed))][-3:] == [
        NodeState.IN_REPAIR,
        NodeState.BURN_IN,
        NodeState.IN_SERVICE,
    ]

    # The month: availability = 1 - 5 min swap / 24 h (all 64 GPUs count: the domain was short) < 99.9 %.
    march = Period.month(2026, 3)
    w.clock.set(march.end + timedelta(hours=1))
    report = health.sla.report(op, march)
    line = next(x for x in report.lines if x.allocation == rsv.id)
    assert line.availability_pct == f"{(1 - Decimal(5) / Decimal(24 * 60)) * 100:.4f}"
    assert line.credit_pct == "10"
    charge = Money.of(line.charge, "USD")
    assert charge == Money.of(after.price_total, "USD")  # the whole 24-hour reservation falls in March
    issued = health.sla.issue_credits(op, march)
    assert [c.allocation for c in issued] == [rsv.id]
    assert health.sla.issue_credits(op, march) == []  # exactly once
    assert w.services.billing is not None
    invoices = w.services.billing.finalize(march)
    invoice = next(i for i in invoices if i.tenant_id == acme.tenant_id)
    assert [c.amount for c in invoice.credits] == [Money.of(line.credit, "USD")]
    assert abs(invoice.credits[0].amount.minor * 10 - charge.minor) < 10  # 10 %, rounded half-even
    assert [n.kind for n in health.notices(acme)][-1] is NoticeKind.CREDIT_ISSUED


def test_credits_survive_a_restart_without_being_issued_twice(database: str) -> None:
    """A new HealthService over the same database (a restart) issues nothing more for the period."""
    if database == "memory":
        return  # nothing survives a restart in memory: the SQL stores are what this is about
    w, health = health_world(database, nvl72_spares=0)
    op, acme = w.operator(), w.tenant("acme")
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 72, 24, shape="whole-nvl72"))
    w.control.reconcile()
    w.clock.advance(timedelta(hours=1))
    health.observe(observation(rsv.nodes[0], w.clock.now()))
    # no spare, and the other domain is free: the reservation moves there whole
    moved = w.control.reservations.get_reservation(acme, rsv.id)
    assert set(moved.nodes).isdisjoint(rsv.nodes) and len(moved.nodes) == 18
    march = Period.month(2026, 3)
    w.clock.set(march.end + timedelta(hours=1))
    first = health.sla.issue_credits(op, march)
    again = build_health(w.services.settings, w.control, w.services.engine, w.clock, w.services.billing)
    assert first and again.sla.issue_credits(op, march) == []
    assert again.sla.report(op, march).lines[0].issued
    assert w.services.billing is not None
    sla_credits = [c for c in w.services.billing.store.credits(tenant=acme.tenant_id) if "SLA" in c.id]
    assert len(sla_credits) == 1

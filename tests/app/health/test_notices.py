"""Notices a tenant gets beyond replacements: preemption notice, invoice finalized (with its credits)."""

from __future__ import annotations

from datetime import timedelta

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.health.domain.notices import NoticeKind
from neocloud.kernel.periods import Period
from tests.control_builders import T0, h100_fleet
from tests.health_builders import health_world, observation


def test_a_spot_instance_given_notice_is_told_once() -> None:
    w, health = health_world(fleet_=h100_fleet(1, per_su=1))
    spotter, buyer = w.tenant("spotter"), w.tenant("buyer")
    w.control.instances.create_instance(spotter, InstanceRequest("H100", 1, spot=True))
    w.control.reconcile()
    later = w.clock.now() + timedelta(minutes=5)
    w.control.reservations.reserve(buyer, ReservationRequest("H100", 8, 24, later, shape="whole-nodes"))
    made = health.notify_preemptions()
    assert [n.kind for n in made] == [NoticeKind.PREEMPTION_NOTICE]
    assert health.notify_preemptions() == []
    assert [n.kind for n in health.notices(spotter)] == [NoticeKind.PREEMPTION_NOTICE]
    assert health.notices(buyer) == []


def test_closing_a_month_credits_and_finalizes_and_tells_the_tenant_once() -> None:
    w, health = health_world(nvl72_spares=0)
    op, acme = w.operator(), w.tenant("acme")
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 72, 24, T0, shape="whole-nvl72"))
    w.control.reconcile()
    other = w.control.reservations.reserve(
        w.tenant("b"), ReservationRequest("GB200", 72, 24, T0, shape="whole-nvl72")
    )
    w.control.reconcile()
    w.clock.advance(timedelta(hours=1))
    health.observe(observation(rsv.nodes[0], w.clock.now()))  # no spare, no free domain: degraded
    assert [n.kind for n in health.notices(acme)] == [NoticeKind.DEGRADED]
    march = Period.month(2026, 3)
    w.clock.set(march.end + timedelta(hours=1))
    ids = health.sla.close_period(op, march)
    assert len(ids) == 2 and health.sla.close_period(op, march) == ids
    kinds = [n.kind for n in health.notices(acme)]
    assert kinds.count(NoticeKind.INVOICE_FINALIZED) == 1 and NoticeKind.CREDIT_ISSUED in kinds
    line = next(x for x in health.sla.report(op, march).lines if x.allocation == rsv.id)
    assert line.credit_pct == "25" and line.issued  # 23 h of 24 short (RMA outlasts the reservation)
    assert next(x for x in health.sla.report(op, march).lines if x.allocation == other.id).credit_pct == "0"

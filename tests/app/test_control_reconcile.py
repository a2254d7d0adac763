"""The reconciler over the in-memory store: lifecycle timing, provisioning delay, durable intent after
a crash, spot preemption."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from neocloud.control.adapters.provisioners import FakeProvisioner
from neocloud.control.app.control import ControlPlane
from neocloud.control.app.views import InstanceRequest, ReservationRequest
from tests.control_builders import T0, World, memory_world

H = timedelta(hours=1)


def states(w: World, principal, allocation_id: str) -> list[str]:
    return [e.to_state for e in w.control.allocations.list_events(principal, allocation_id)]


def test_nothing_happens_before_the_start():
    w = memory_world()
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, start=T0 + H))
    assert w.control.reconcile().total == 0
    assert w.control.reservations.get_reservation(acme, r.id).state == "scheduled"


def test_nodes_become_active_only_after_the_provisioning_delay():
    w = memory_world(delay=timedelta(minutes=5))
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    report = w.control.reconcile()
    assert report.started == 1 and report.provisioned == 0
    w.clock.advance(timedelta(minutes=4))
    assert w.control.reconcile().provisioned == 0
    w.clock.advance(timedelta(minutes=1))
    assert w.control.reconcile().provisioned == 1
    assert w.control.reservations.get_reservation(acme, r.id).state == "active"


def test_a_reservation_ends_at_its_end_and_releases_its_nodes():
    w = memory_world()
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    w.control.reconcile()
    w.clock.advance(H)
    report = w.control.reconcile()
    assert (report.ending, report.ended) == (1, 1)
    assert r.id in w.provisioner.released
    assert states(w, acme, r.id)[-2:] == ["ending", "ended"]


class CrashingProvisioner(FakeProvisioner):
    """Fails the first provision call, as a process killed right after its commit would."""

    def __init__(self, clock) -> None:
        super().__init__(clock)
        self.crashes = 1

    def provision(self, grant):
        if self.crashes:
            self.crashes -= 1
            raise ConnectionError("provisioner unreachable")
        super().provision(grant)


def test_a_crash_after_commit_leaves_intent_the_next_pass_finishes():
    w = memory_world()
    crashing = CrashingProvisioner(w.clock)
    w.control = ControlPlane(replace(w.control.deps, provisioner=crashing))  # same state, failing provisioner
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    report = w.control.reconcile()
    assert "ConnectionError" in report.details[-1]
    assert w.control.reservations.get_reservation(acme, r.id).state == "provisioning"  # durable intent
    w.control.reconcile()
    assert w.control.reservations.get_reservation(acme, r.id).state == "active"
    events = w.control.allocations.list_events(acme, r.id)
    assert [e.to_state for e in events if e.from_state != e.to_state].count("provisioning") == 1
    retry = [e for e in events if e.from_state == e.to_state == "provisioning"]
    assert len(retry) == 1 and "provisioner unreachable" in retry[0].reason  # the event names the cause


def test_spot_is_preempted_when_the_notice_elapses_not_before():
    w = memory_world(notice=timedelta(minutes=2))
    acme = w.tenant("acme")
    spot = w.control.instances.create_instance(acme, InstanceRequest("H100", 4, spot=True))
    w.control.reconcile()
    w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    w.clock.advance(timedelta(minutes=1))
    assert w.control.reconcile().preempted == 0
    w.clock.advance(timedelta(minutes=1))
    assert w.control.reconcile().preempted == 1
    events = w.control.allocations.list_events(acme, spot.id)
    assert events[-1].to_state == "preempted" and events[-1].at == T0 + timedelta(minutes=2)


def test_stopping_an_instance_ends_it_through_ending():
    w = memory_world()
    acme = w.tenant("acme")
    i = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    w.control.reconcile()
    w.clock.advance(H)
    assert w.control.instances.stop_instance(acme, i.id).state == "ending"
    w.control.reconcile()
    view = w.control.instances.get_instance(acme, i.id)
    assert view.state == "ended" and view.ended_at == T0 + H and view.started_at == T0


def test_stopping_a_not_yet_started_instance_cancels_it():
    w = memory_world()
    acme = w.tenant("acme")
    w.control.instances.create_instance(acme, InstanceRequest("H100", 4, spot=True))
    od = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))  # waits for the spot notice
    assert w.control.instances.stop_instance(acme, od.id).state == "cancelled"


def test_events_carry_what_billing_meters():
    w = memory_world()
    acme = w.tenant("acme")
    i = w.control.instances.create_instance(acme, InstanceRequest("H100", 2))
    w.control.reconcile()
    with w.control.deps.uow() as uow:
        events = uow.events(i.id)
    assert {(e.tenant_id, e.product.value, e.model, e.gpus, len(e.nodes)) for e in events[1:]} == {
        (acme.tenant_id, "on-demand", "H100", 16, 2)
    }


class FailingRelease(FakeProvisioner):
    def __init__(self, clock) -> None:
        super().__init__(clock)
        self.failures = 1

    def release(self, allocation_id, nodes):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("release failed")
        super().release(allocation_id, nodes)


def test_a_failed_release_keeps_the_preemption_due_until_it_succeeds():
    w = memory_world(notice=timedelta(minutes=2))
    w.control = ControlPlane(replace(w.control.deps, provisioner=FailingRelease(w.clock)))
    acme = w.tenant("acme")
    spot = w.control.instances.create_instance(acme, InstanceRequest("H100", 4, spot=True))
    w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    w.clock.advance(timedelta(minutes=2))
    w.control.reconcile()
    assert w.control.instances.get_instance(acme, spot.id).state == "scheduled"
    w.control.reconcile()
    assert w.control.instances.get_instance(acme, spot.id).state == "preempted"
    assert spot.id in w.control.deps.provisioner.released


def test_a_reservation_stopped_early_frees_its_gpus_but_keeps_its_billed_window():
    w = memory_world()
    acme = w.tenant("acme")
    r = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 4))
    w.control.reconcile()
    w.clock.advance(H)
    stopped = w.control.reservations.cancel_reservation(acme, r.id)
    assert stopped.state == "ending" and stopped.end == T0 + 4 * H
    w.control.reconcile()
    assert w.control.reservations.get_reservation(acme, r.id).state == "ended"
    again = w.control.reservations.reserve(
        acme, ReservationRequest("H100", 8, 1)
    )  # the same 8 GPUs, free again
    assert again.nodes == r.nodes


class FailingFor(FakeProvisioner):
    """A provisioner that cannot provision the allocations in `broken` (a bad node, a refused window)."""

    def __init__(self, clock) -> None:  # type: ignore[no-untyped-def]
        super().__init__(clock)
        self.broken: set[str] = set()

    def provision(self, grant):  # type: ignore[no-untyped-def]
        if grant.allocation_id in self.broken:
            from neocloud.control.app.ports import ProvisionError

            raise ProvisionError("refused")
        super().provision(grant)


class InOrder:
    """Ids in creation order, so the test knows which allocations due() (by id) reads first."""

    def __init__(self) -> None:
        self.n = 0

    def new_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n:016x}"

    def secret(self) -> str:
        self.n += 1
        return f"secret-{self.n:032x}"


def test_allocations_backing_off_do_not_crowd_the_others_out_of_a_pass():
    w = memory_world()
    prov = FailingFor(w.clock)
    w.control = ControlPlane(replace(w.control.deps, provisioner=prov, ids=InOrder()))
    acme = w.tenant("acme")
    stuck = [w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 4)).id for _ in range(2)]
    # due() reads by id: the two stuck ones come first and fill a pass of 2 unless it reads past them
    prov.broken = set(stuck)
    w.control.reconcile(max_items=2)  # both fail; the second pass will find them backing off
    w.control.reconcile(max_items=2)
    ok = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 4))
    w.control.reconcile(max_items=2)
    assert w.control.reservations.get_reservation(acme, ok.id).state in ("provisioning", "active")
    assert w.control.deps.retries.pending() == 2
    for rid in stuck:
        w.control.reservations.cancel_reservation(acme, rid)
    w.clock.advance(timedelta(minutes=2))  # past their backoff: they end
    w.control.reconcile(max_items=2)
    w.control.reconcile(max_items=2)
    assert {w.control.reservations.get_reservation(acme, r).state for r in stuck} == {"ended"}
    assert w.control.deps.retries.pending() == 0  # no longer due: forgotten, not kept forever

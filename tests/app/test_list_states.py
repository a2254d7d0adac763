"""Lists filtered by state: the console's overview reads what is live (and failed), not the history."""

from __future__ import annotations

from datetime import timedelta

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.kernel.products import State
from tests.control_builders import memory_world


def test_lists_of_given_states_leave_the_rest_of_the_history_out() -> None:
    w = memory_world()
    acme = w.tenant("acme")
    done = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    w.control.reconcile()
    w.control.instances.stop_instance(acme, done.id)
    live = w.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    later = w.control.reservations.reserve(
        acme, ReservationRequest("H100", 8, 1, start=w.clock.now() + timedelta(days=1))
    )
    gone = w.control.reservations.reserve(
        acme, ReservationRequest("H100", 8, 1, start=w.clock.now() + timedelta(days=2))
    )
    w.control.reservations.cancel_reservation(acme, gone.id)
    w.control.reconcile()
    live_states = [State.REQUESTED, State.SCHEDULED, State.PROVISIONING, State.ACTIVE, State.ENDING]
    instances = w.control.instances.list_instances(acme, states=live_states).items
    reservations = w.control.reservations.list_reservations(acme, states=live_states).items
    assert [i.id for i in instances] == [live.id]
    assert [r.id for r in reservations] == [later.id]
    assert {i.id for i in w.control.instances.list_instances(acme).items} == {done.id, live.id}

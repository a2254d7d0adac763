"""A node replacement reaches Slurm: when the operator drains a node under an active reservation, the
health context moves the allocation to a free node of the same scalable unit, and the Slurm reservation
follows it (the provisioner is told the allocation's new nodes; converge would repair it otherwise)."""

from __future__ import annotations

from neocloud.control.app.views import ReservationRequest
from neocloud.control.domain.tenancy import Principal, Role
from neocloud.health.domain.lifecycle import NodeState
from neocloud.kernel.ids import NodeId
from tests.slurm.conftest import Cloud, reservations, run

OPERATOR = Principal("test-operator", Role.OPERATOR)


def test_a_drained_nodes_reservation_moves_to_its_replacement_in_slurm(cloud: Cloud) -> None:
    acme = cloud.tenant("acme")
    r = cloud.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1, shape="whole-nodes"))
    cloud.control.reconcile()
    r = cloud.control.reservations.get_reservation(acme, r.id)
    assert r.state == "active"
    (failed,) = r.nodes
    name = f"nc-{r.id}"

    health = cloud.services.health
    assert health is not None
    drained = health.drain(OPERATOR, NodeId(failed), "triage: GPU fell off the bus")
    assert drained.state is NodeState.OUT_OF_SERVICE
    cloud.control.reconcile()

    moved = cloud.control.reservations.get_reservation(acme, r.id)
    (replacement,) = moved.nodes
    assert replacement != failed
    su_of = {"r1-n1": "su1", "r1-n2": "su1", "r2-n1": "su2", "r2-n2": "su2"}
    assert su_of[replacement] == su_of[failed]  # inside the domain the shape promised
    line = reservations()[name]
    shown = run("scontrol", "show", "hostnames", line.split("Nodes=")[1].split()[0]).stdout.split()
    assert shown == [replacement]  # Slurm holds the replacement for the tenant, and no longer the failed node

"""A node swap is committed before the cluster is told; when the cluster cannot be told (Slurm down),
the evacuation still finishes: the tenant is told it was replaced (not degraded), the failed node
leaves service, and converge re-applies the grant later."""

from __future__ import annotations

from neocloud.control.app.ports import Grant, ProvisionError
from neocloud.control.app.views import ReservationRequest
from neocloud.health.domain.lifecycle import NodeState
from neocloud.health.domain.notices import NoticeKind
from tests.health_builders import health_world, observation


def test_a_failed_provision_after_the_swap_does_not_abort_the_evacuation() -> None:
    w, health = health_world(nvl72_spares=2)
    acme = w.tenant("acme")
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 64, 24, shape="one-nvl72"))
    w.control.reconcile()
    failed = rsv.nodes[0]
    real = w.provisioner.provision

    def down(grant: Grant) -> None:
        raise ProvisionError("slurmctld is not responding")

    w.provisioner.provision = down  # type: ignore[method-assign]
    try:
        outcome = health.observe(observation(failed, w.clock.now()))
    finally:
        w.provisioner.provision = real  # type: ignore[method-assign]
    assert outcome.decision == "quarantine"
    kinds = [n.kind for n in health.notices(acme)]
    assert NoticeKind.REPLACED in kinds and NoticeKind.DEGRADED not in kinds
    now = w.control.reservations.get_reservation(acme, rsv.id)
    assert failed not in now.nodes and len(now.nodes) == len(rsv.nodes)
    assert health.node(w.operator(), failed).state is not NodeState.IN_SERVICE

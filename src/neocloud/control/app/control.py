"""The control plane: one service per concept over one explicit `Deps`.

    control.tenancy       tokens, tenants, projects, quotas          (tenancy.py)
    control.fleet         import and list nodes                      (fleet.py)
    control.fleetmap      the fleet map: topology and live states    (fleetmap.py)
    control.utilisation   committed and healthy GPU-hours per day    (utilisation.py)
    control.sessions      console sessions, kept in the store        (sessions.py)
    control.reservations  quote, reserve, cancel, extend, calendar   (reservations.py)
    control.instances     on-demand and spot instances               (instances.py)
    control.allocations   events and GPU bookings of any allocation  (allocations.py)
    control.audit         the audit trail: who did what              (audit.py)
    control.nodes         node states, maintenance, replacements     (replacement.py)
    control.jobs          cluster jobs: usage by job, job reconcile  (jobs.py)
    control.slurm         Slurm users, how to run in an allocation   (slurm.py)
    control.reconcile()   one reconciler pass                        (reconciler.py)

Tenancy is enforced in these services (access.py), so every interface (API, CLI, console) inherits it.
Each use case is load → decide (pure domain) → persist; the provisioner is called only by the
reconciler, outside any transaction. Built by the composition root (`neocloud.bootstrap`).
"""

from __future__ import annotations

from neocloud.control.app.allocations import AllocationService
from neocloud.control.app.audit import AuditService
from neocloud.control.app.deps import DEFAULT_SPOT_NOTICE, Deps
from neocloud.control.app.fleet import FleetService
from neocloud.control.app.fleetmap import FleetMapQueries
from neocloud.control.app.instances import InstanceService
from neocloud.control.app.jobs import JobService
from neocloud.control.app.reconciler import reconcile
from neocloud.control.app.replacement import NodeControl
from neocloud.control.app.reservations import ReservationService
from neocloud.control.app.sessions import ConsoleSessions
from neocloud.control.app.slurm import SlurmService
from neocloud.control.app.tenancy import TenancyService
from neocloud.control.app.utilisation import UtilisationQueries
from neocloud.control.app.views import ReconcileReport

__all__ = ["DEFAULT_SPOT_NOTICE", "ControlPlane", "Deps"]


class ControlPlane:
    """The control plane's services, sharing one `Deps`."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.tenancy = TenancyService(deps)
        self.fleet = FleetService(deps)
        self.fleetmap = FleetMapQueries(deps, deps.node_table)
        self.utilisation = UtilisationQueries(deps, self.fleetmap)
        self.sessions = ConsoleSessions(deps, deps.sessions)
        self.reservations = ReservationService(deps)
        self.instances = InstanceService(deps)
        self.allocations = AllocationService(deps)
        self.audit = AuditService(deps)
        self.nodes = NodeControl(deps)
        self.jobs = JobService(deps)
        self.slurm = SlurmService(deps)

    def reconcile(self, max_items: int = 500) -> ReconcileReport:
        """One pass: start what is due, finish provisioning, end what is over, preempt spot whose notice
        elapsed. Safe to run in several processes at once."""
        return reconcile(self.deps.uow, self.deps.clock, self.deps.provisioner, max_items, self.deps.retries)

"""The tenant's side of the Slurm cluster: its Slurm users (a tenant-admin declares them; neocloud makes
them users of the tenant's accounts) and how to run in an allocation (reservation, account, partition, an
example sbatch/srun line). Cluster calls run outside any transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from neocloud.control.app.access import tenant_projects, visible_allocation
from neocloud.control.app.deps import Deps
from neocloud.control.app.ports import AccessGuide, ClusterAccounts, ProvisionError
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import Conflict, InvalidInput, NotFound, Unavailable
from neocloud.kernel.products import Product

USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")  # a POSIX login name, as useradd accepts it
# the cluster's own accounts: never a tenant's Slurm user (their jobs would be charged to the tenant)
SYSTEM_USERS = frozenset({"root", "slurm", "munge", "mysql", "daemon", "bin", "sys", "nobody", "slurmrest"})
NO_CLUSTER = "this server drives no Slurm cluster (docs/slurm.md: NEOCLOUD_PROVISIONER=slurm)"


@dataclass(frozen=True, slots=True)
class SlurmUsersView:
    tenant_id: str
    users: list[str]


@dataclass(frozen=True, slots=True)
class AccessView:
    """How a tenant runs in an allocation on the cluster."""

    allocation_id: str
    reservation: str
    account: str
    partition: str
    sbatch: str
    srun: str


def tenant_asked(principal: Principal, tenant: str | None) -> str:
    """Whose Slurm side a request is about: a tenant token's own tenant (naming another: NotFound, as a
    missing one); operators must name it (InvalidInput)."""
    if principal.tenant_id is not None:
        if tenant is not None and tenant != principal.tenant_id:
            raise NotFound(f"tenant {tenant!r} not found")
        return principal.tenant_id
    if tenant is None:
        raise InvalidInput("name the tenant (operators: ?tenant=)", details={"field": "tenant"})
    return tenant


@contextmanager
def cluster_call() -> Iterator[None]:
    """A cluster that cannot do it now answers Unavailable (503, retry later), with the cause."""
    try:
        yield
    except ProvisionError as err:
        raise Unavailable(f"the Slurm cluster did not answer: {err.cause}") from None


class SlurmService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _accounts(self) -> ClusterAccounts:
        if self._deps.cluster_accounts is None:
            raise NotFound(NO_CLUSTER)
        return self._deps.cluster_accounts

    def users(self, principal: Principal, tenant: str | None = None) -> SlurmUsersView:
        who, projects = self._tenant_projects(principal, tenant, "listing Slurm users")
        with cluster_call():
            return SlurmUsersView(who, self._accounts().users(who, projects))

    def _tenant_projects(
        self, principal: Principal, tenant: str | None, action: str
    ) -> tuple[str, list[str]]:
        """The tenant asked and its project ids (a tenant's token naming another: NotFound)."""
        who = tenant_asked(principal, tenant)
        with self._deps.uow(read_only=True) as uow:
            found = uow.get_tenant(who)
            if found is None or not principal.can_see(who):
                raise NotFound(f"tenant {who!r} not found")
            projects = tenant_projects(uow, who)
        return who, [p.id for p in projects]

    def add_user(self, principal: Principal, user: str, tenant: str | None = None) -> SlurmUsersView:
        """Make the Unix user `user` a Slurm user of the tenant's accounts (tenant-admin). A user of
        another tenant is refused without naming it."""
        who, projects = self._tenant_projects(principal, tenant, "adding a Slurm user")
        principal.require_admin_of(who, "adding a Slurm user")
        if not USER_NAME.match(user):
            raise InvalidInput(
                f"{user!r} is not a login name (lowercase letters, digits, _ and -, at most 32)",
                details={"field": "user"},
            )
        if user in SYSTEM_USERS:
            raise InvalidInput(f"{user!r} is a system user of the cluster", details={"field": "user"})
        accounts = self._accounts()
        taken = Conflict(f"Slurm user {user!r} belongs to another tenant", details={"field": "user"})
        with cluster_call():
            if accounts.tenants_of(user) - {who}:
                raise taken
            accounts.add_user(who, projects, user)
            # Checked again after adding: two tenants adding one user at once both passed the first
            # check; each then sees the other and takes its own addition back (neither keeps the user).
            # No lock spans the cluster calls (they run outside any transaction).
            if accounts.tenants_of(user) - {who}:
                accounts.remove_user(who, projects, user)
                raise taken
            return SlurmUsersView(who, accounts.users(who, projects))

    def remove_user(self, principal: Principal, user: str, tenant: str | None = None) -> SlurmUsersView:
        who, projects = self._tenant_projects(principal, tenant, "removing a Slurm user")
        principal.require_admin_of(who, "removing a Slurm user")
        accounts = self._accounts()
        with cluster_call():
            if user not in accounts.users(who, projects):
                raise NotFound(f"Slurm user {user!r} not found")
            accounts.remove_user(who, projects, user)
            return SlurmUsersView(who, accounts.users(who, projects))

    def access(self, principal: Principal, allocation_id: str) -> AccessView:
        """How to run in the reservation or instance `allocation_id` (NotFound when the server drives no cluster)."""
        alloc = visible_allocation(self._deps, principal, allocation_id, tuple(Product), "allocation")
        guide: AccessGuide | None = self._deps.access
        if guide is None:
            raise NotFound(NO_CLUSTER)
        a = guide.access(alloc.id, alloc.project_id, alloc.model, alloc.gpus, len(alloc.nodes))
        return AccessView(alloc.id, a["reservation"], a["account"], a["partition"], a["sbatch"], a["srun"])

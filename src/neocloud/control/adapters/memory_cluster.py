"""In-memory cluster accounts and access guide: the ClusterAccounts and AccessGuide ports without a
Slurm cluster, for unit and isolation tests and the demo. Same rules as the Slurm adapters: a user is a
user of a tenant's account and of each of its projects' accounts."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def _tenant_account(tenant_id: str) -> str:
    return f"ten_{tenant_id}"


class MemoryClusterAccounts:
    """Associations (account, user) kept in a set. `before_add` runs just before an association is
    added (tests use it to interleave a concurrent request at the racy instant)."""

    def __init__(self) -> None:
        self.associations: set[tuple[str, str]] = set()
        self.tenant_of: dict[str, str] = {}
        self.before_add: Callable[[str, str], None] | None = None

    def _accounts(self, tenant_id: str, project_ids: Sequence[str]) -> set[str]:
        self.tenant_of[_tenant_account(tenant_id)] = tenant_id
        return {_tenant_account(tenant_id)} | {f"prj_{p}" for p in project_ids}

    def users(self, tenant_id: str, project_ids: Sequence[str]) -> list[str]:
        mine = self._accounts(tenant_id, project_ids)
        return sorted({u for a, u in self.associations if a in mine})

    def add_user(self, tenant_id: str, project_ids: Sequence[str], user: str) -> None:
        if self.before_add is not None:
            hook, self.before_add = self.before_add, None
            hook(tenant_id, user)
        self.associations |= {(a, user) for a in self._accounts(tenant_id, project_ids)}

    def remove_user(self, tenant_id: str, project_ids: Sequence[str], user: str) -> None:
        mine = self._accounts(tenant_id, project_ids)
        self.associations = {(a, u) for a, u in self.associations if not (u == user and a in mine)}

    def tenants_of(self, user: str) -> set[str]:
        return {self.tenant_of[a] for a, u in self.associations if u == user and a in self.tenant_of}


class MemoryAccessGuide:
    """How to run in an allocation, as the Slurm guide words it, without a cluster."""

    def access(
        self, allocation_id: str, project_id: str, model: str, gpus: int, nodes: int
    ) -> dict[str, str]:
        reservation, account = f"nc-{allocation_id}", f"prj_{project_id}"
        return {
            "reservation": reservation,
            "account": account,
            "partition": model,
            "sbatch": f"sbatch --reservation={reservation} --account={account} -N {nodes} job.sh",
            "srun": f"srun --reservation={reservation} --account={account} -N {nodes} nvidia-smi",
        }

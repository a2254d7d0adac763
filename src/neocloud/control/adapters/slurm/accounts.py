"""Tenants → Slurm accounts (`sacctmgr`): a tenant is an account under root, each of its projects a
sub-account; a tenant's Slurm users are users of its account and of every project account (a project
account made later gets the tenant's users then). Slurm's association table is the record of who is a
user of what. Idempotent: what exists already is left alone."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from neocloud.control.adapters.slurm.commands import SlurmCommands
from neocloud.control.adapters.slurm.names import project_account, tenant_account, tenant_of_account


class SlurmAccounts:
    def __init__(self, commands: SlurmCommands) -> None:
        self.c = commands
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def accounts(self) -> set[str]:
        return {a for a in self.c.out("sacctmgr", "-nP", "show", "account", "format=account").split() if a}

    def associations(self) -> set[tuple[str, str]]:
        """(account, user) of every user association."""
        out = set()
        for line in self.c.out("sacctmgr", "-nP", "show", "assoc", "format=account,user").splitlines():
            account, _, user = line.partition("|")
            if user:
                out.add((account, user))
        return out

    def ensure_project(self, tenant_id: str, project_id: str) -> str:
        """The project's account (and its tenant's), created when missing, with the tenant's users;
        returns the project account."""
        tenant, project = tenant_account(tenant_id), project_account(project_id)
        with self._lock:
            if project in self._known:
                return project
        existing = self.accounts()
        if tenant not in existing:
            self._add_account(tenant, "root", f"neocloud tenant {tenant}")
        if project not in existing:
            self._add_account(project, tenant, f"neocloud project {project}")
            users = sorted({u for a, u in self.associations() if a == tenant})
            for user in users:
                self._add_user(user, [project])
        with self._lock:
            self._known.update({tenant, project})
        return project

    def _add_account(self, name: str, parent: str, description: str) -> None:
        done = self.c.run(
            "sacctmgr",
            "-i",
            "add",
            "account",
            name,
            f"parent={parent}",
            f"Description={description}",
            "Organization=neocloud",
            check=False,
        )
        if done.returncode != 0 and "Nothing new added" not in done.stdout + done.stderr:
            self.c.sacctmgr("add", "account", name, f"parent={parent}")  # raises with the cause

    def _add_user(self, user: str, accounts: Sequence[str]) -> None:
        done = self.c.run("sacctmgr", "-i", "add", "user", user, f"account={','.join(accounts)}", check=False)
        if done.returncode != 0 and "Nothing new added" not in done.stdout + done.stderr:
            self.c.sacctmgr("add", "user", user, f"account={','.join(accounts)}")

    # the ClusterAccounts port -------------------------------------------------------------------------

    def add_user(self, tenant_id: str, project_ids: Sequence[str], user: str) -> None:
        """`user` may run jobs under the tenant's account and every one of its project accounts."""
        accounts = [tenant_account(tenant_id)] + [self.ensure_project(tenant_id, p) for p in project_ids]
        have = self.associations()
        missing = [a for a in accounts if (a, user) not in have]
        if missing:
            self._add_user(user, missing)

    def remove_user(self, tenant_id: str, project_ids: Sequence[str], user: str) -> None:
        """Remove `user`'s associations with the tenant's accounts (and none other)."""
        mine = {tenant_account(tenant_id)} | {project_account(p) for p in project_ids}
        of_user = {a for a, u in self.associations() if u == user}
        present = sorted(of_user & mine)
        if not present:
            return
        if of_user <= mine:  # a user of this tenant only: remove it whole (Slurm keeps a default account)
            self.c.sacctmgr("remove", "user", user)
        else:
            self.c.sacctmgr("remove", "user", user, "where", f"account={','.join(present)}")

    def users(self, tenant_id: str, project_ids: Sequence[str]) -> list[str]:
        mine = {tenant_account(tenant_id)} | {project_account(p) for p in project_ids}
        return sorted({u for a, u in self.associations() if a in mine})

    def tenants_of(self, user: str) -> set[str]:
        return {t for a, u in self.associations() if u == user and (t := tenant_of_account(a)) is not None}

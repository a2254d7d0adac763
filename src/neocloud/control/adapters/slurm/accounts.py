"""Tenants → Slurm accounts (`sacctmgr`): a tenant is an account under root, each of its projects a
sub-account, and a tenant's declared Slurm users are users of its project accounts. Idempotent: what
exists already is left alone."""

from __future__ import annotations

import threading

from neocloud.control.adapters.slurm.commands import SlurmCommands
from neocloud.control.adapters.slurm.names import project_account, tenant_account


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
        """The project's account (and its tenant's), created when missing; returns the project account."""
        tenant, project = tenant_account(tenant_id), project_account(project_id)
        with self._lock:
            if project in self._known:
                return project
        existing = self.accounts()
        if tenant not in existing:
            self._add_account(tenant, "root", f"neocloud tenant {tenant}")
        if project not in existing:
            self._add_account(project, tenant, f"neocloud project {project}")
        with self._lock:
            self._known.update({tenant, project})
        return project

    def _add_account(self, name: str, parent: str, description: str) -> None:
        done = self.c.run("sacctmgr", "-i", "add", "account", name, f"parent={parent}",
                          f"Description={description}", "Organization=neocloud", check=False)
        if done.returncode != 0 and "Nothing new added" not in done.stdout + done.stderr:
            self.c.sacctmgr("add", "account", name, f"parent={parent}")  # raises with the cause

    def add_user(self, tenant_id: str, project_ids: list[str], user: str) -> None:
        """`user` may run jobs under every one of the tenant's project accounts."""
        accounts = [self.ensure_project(tenant_id, p) for p in project_ids]
        have = self.associations()
        missing = [a for a in accounts if (a, user) not in have]
        if missing:
            done = self.c.run("sacctmgr", "-i", "add", "user", user, f"account={','.join(missing)}", check=False)
            if done.returncode != 0 and "Nothing new added" not in done.stdout + done.stderr:
                self.c.sacctmgr("add", "user", user, f"account={','.join(missing)}")

    def remove_user(self, tenant_id: str, project_ids: list[str], user: str) -> None:
        """Remove `user`'s associations with the tenant's accounts (and none other)."""
        have = self.associations()
        accounts = [project_account(p) for p in project_ids] + [tenant_account(tenant_id)]
        present = [a for a in accounts if (a, user) in have]
        if present:
            self.c.sacctmgr("remove", "user", user, "where", f"account={','.join(present)}")

    def users(self, tenant_id: str, project_ids: list[str]) -> set[str]:
        accounts = {project_account(p) for p in project_ids} | {tenant_account(tenant_id)}
        return {u for a, u in self.associations() if a in accounts}

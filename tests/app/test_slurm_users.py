"""The tenant's Slurm users through SlurmService over the in-package cluster fake: system users are
refused, a user of another tenant is refused, and two tenants adding one user at once never both keep it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from neocloud.control.adapters.memory_cluster import MemoryClusterAccounts
from neocloud.control.app.slurm import SYSTEM_USERS, SlurmService
from neocloud.kernel.errors import Conflict, InvalidInput
from tests.control_builders import memory_world


def _service(w, accounts: MemoryClusterAccounts) -> SlurmService:
    return SlurmService(replace(w.control.deps, cluster_accounts=accounts))


@pytest.mark.parametrize("user", sorted(SYSTEM_USERS))
def test_a_system_user_of_the_cluster_is_refused_and_nothing_is_added(user: str) -> None:
    w = memory_world()
    admin = w.tenant("acme")
    accounts = MemoryClusterAccounts()
    with pytest.raises(InvalidInput, match="system user"):
        _service(w, accounts).add_user(admin, user)
    assert accounts.associations == set()


def test_a_user_of_another_tenant_is_refused_without_naming_it() -> None:
    w = memory_world()
    acme, beta = w.tenant("acme"), w.tenant("beta")
    accounts = MemoryClusterAccounts()
    svc = _service(w, accounts)
    svc.add_user(acme, "alice")
    with pytest.raises(Conflict) as err:
        svc.add_user(beta, "alice")
    assert "acme" not in str(err.value) and acme.tenant_id not in str(err.value)
    assert accounts.tenants_of("alice") == {acme.tenant_id}


def test_two_tenants_adding_one_user_at_once_never_both_keep_it() -> None:
    """beta's add lands between acme's check and acme's add (the race): acme sees it after adding and
    takes its own addition back; the user ends in at most one tenant."""
    w = memory_world()
    acme, beta = w.tenant("acme"), w.tenant("beta")
    accounts = MemoryClusterAccounts()
    svc = _service(w, accounts)
    accounts.before_add = lambda tenant, user: svc.add_user(beta, user)  # beta's request, mid-way
    with pytest.raises(Conflict):
        svc.add_user(acme, "bob")
    assert accounts.tenants_of("bob") == {beta.tenant_id}
    assert svc.users(acme).users == []


def test_every_project_of_a_tenant_is_associated_past_the_first_page() -> None:
    w = memory_world()
    admin = w.tenant("acme")
    for i in range(505):
        w.control.tenancy.create_project(admin, admin.tenant_id, f"p{i:03d}")
    accounts = MemoryClusterAccounts()
    _service(w, accounts).add_user(admin, "carol")
    projects = {a for a, u in accounts.associations if u == "carol" and a.startswith("prj_")}
    assert len(projects) == 506  # 505 + default

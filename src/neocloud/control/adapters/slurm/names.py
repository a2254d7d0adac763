"""How neocloud's objects are named in Slurm. Deterministic, so a retry or a second worker finds what
the first made instead of making a duplicate."""

from __future__ import annotations

from neocloud.control.adapters.slurm.hostlist import slurm_name

RESERVATION_PREFIX = "nc-"


def reservation_name(allocation_id: str) -> str:
    return f"{RESERVATION_PREFIX}{allocation_id}"


def allocation_of(reservation: str) -> str | None:
    """The allocation id of a neocloud reservation name; None for a reservation neocloud does not own."""
    return reservation[len(RESERVATION_PREFIX) :] if reservation.startswith(RESERVATION_PREFIX) else None


def tenant_account(tenant_id: str) -> str:
    """A tenant's Slurm account: its id (Slurm lowercases account names; neocloud ids are lowercase)."""
    return tenant_id.lower()


def project_account(project_id: str) -> str:
    """A project's Slurm account, a sub-account of its tenant's."""
    return project_id.lower()


def node_name(node_id: str) -> str:
    return slurm_name(node_id)


def tenant_of_account(account: str) -> str | None:
    """The tenant id of a tenant account (None for any other account)."""
    return account if account.startswith("ten_") else None


def project_of_account(account: str) -> str | None:
    """The project id of a project account (None for any other account)."""
    return account if account.startswith("prj_") else None

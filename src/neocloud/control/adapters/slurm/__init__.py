"""Slurm behind neocloud's ports: the provisioner (reservations), accounts (sacctmgr), job accounting
(sacct), node health (sinfo) and the configuration generated from the fleet (docs/slurm.md)."""

from neocloud.control.adapters.slurm.accounting import SacctJobs
from neocloud.control.adapters.slurm.accounts import SlurmAccounts
from neocloud.control.adapters.slurm.commands import SlurmCommands
from neocloud.control.adapters.slurm.health import SlurmHealthSource
from neocloud.control.adapters.slurm.provisioner import SlurmAccess, SlurmProvisioner

__all__ = [
    "SacctJobs",
    "SlurmAccess",
    "SlurmAccounts",
    "SlurmCommands",
    "SlurmHealthSource",
    "SlurmProvisioner",
]

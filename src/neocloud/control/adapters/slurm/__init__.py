"""Slurm behind neocloud's ports: the provisioner (reservations), accounts (sacctmgr), job accounting
(sacct), node health (sinfo) and the configuration generated from the fleet (docs/slurm.md)."""

from neocloud.control.adapters.slurm.commands import SlurmCommands
from neocloud.control.adapters.slurm.provisioner import SlurmProvisioner

__all__ = ["SlurmCommands", "SlurmProvisioner"]

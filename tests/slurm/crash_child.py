"""A neocloud worker killed mid-provision: it commits `provisioning`, makes the Slurm reservation, and
dies (os._exit) before it can record the allocation active. Run by test_faults.py as its own process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from neocloud.bootstrap import Settings, SlurmSettings, build_services, slurm_provisioner
from neocloud.control.app.ports import Grant
from neocloud.infra.clock import SystemClock

KILLED = 137


def main(database_url: str, conf: str) -> None:
    clock = SystemClock()
    settings = Settings(database_url=database_url, slurm=SlurmSettings(conf=Path(conf)))
    real = slurm_provisioner(settings.slurm, clock)  # type: ignore[arg-type]

    class DiesAfterSlurm(type(real)):  # type: ignore[misc]
        def provision(self, grant: Grant) -> None:
            super().provision(grant)
            os._exit(KILLED)  # killed right after Slurm's change, before neocloud records it

    provisioner = DiesAfterSlurm(real.commands, clock)
    services = build_services(settings, clock=clock, provisioner=provisioner)
    services.control.reconcile()
    sys.exit(0)  # not reached


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

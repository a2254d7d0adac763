"""Fixtures for the integration tests on a real Slurm 22.05 (scripts/slurm-up.sh starts it; `make test`
does so and sets NEOCLOUD_REQUIRE_SLURM=1, so there a missing Slurm fails the run instead of skipping)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from neocloud.billing.app.settings import BillingSettings
from neocloud.bootstrap import (
    Services,
    Settings,
    SlurmSettings,
    build_services,
    slurm_provisioner,
    upgrade_database,
)
from neocloud.control.domain.tenancy import Principal
from neocloud.fleet.file import load_fleet
from neocloud.infra.clock import SystemClock

FLEET = Path(__file__).with_name("fleet.yaml")
STATE = Path(os.environ.get("NEOCLOUD_SLURM_STATE", "/tmp/neocloud-slurm"))
CONF = Path(os.environ.get("SLURM_CONF") or STATE / "slurm.conf")
JOBS = STATE / "jobs"
USERS = ("nc-t-alice", "nc-t-bob", "nc-t-carol")
WAIT_S = 60.0  # upper bound of any wait on Slurm (a bound, not a timing assertion)


def slurm_env() -> dict[str, str]:
    return {**os.environ, "SLURM_CONF": str(CONF), "TZ": "UTC"}


def run(*cmd: str, user: str | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    """A Slurm command, as root or as the Unix `user` (a tenant's job runs as its own user)."""
    argv = ["runuser", "-u", user, "--", *cmd] if user else list(cmd)
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=slurm_env(),
        timeout=WAIT_S,
        check=check,
        cwd=JOBS if JOBS.exists() else None,
    )


def out(*cmd: str) -> str:
    return run(*cmd, check=True).stdout


def wait_for(what: str, probe, bound_s: float = WAIT_S):
    """Poll `probe()` until it returns something truthy; fail naming `what` after `bound_s`."""
    deadline = time.monotonic() + bound_s
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


def job_state(job_id: str) -> str:
    text = run("sacct", "-X", "-n", "-P", "-j", job_id, "-o", "state").stdout.strip()
    return text.splitlines()[0].split()[0] if text else ""


def wait_job_done(job_id: str) -> str:
    done = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")
    return str(wait_for(f"job {job_id} to finish", lambda: (s := job_state(job_id)) in done and s))


def reservations() -> dict[str, str]:
    text = run("scontrol", "-o", "show", "reservation").stdout
    return {
        line.split()[0].removeprefix("ReservationName="): line
        for line in text.splitlines()
        if line.startswith("ReservationName=")
    }


@pytest.fixture(scope="session")
def slurm() -> Path:
    """The test cluster's slurm.conf, once its controller answers."""
    up = False
    if CONF.exists():
        try:
            up = "is UP" in run("scontrol", "ping").stdout
        except (OSError, subprocess.TimeoutExpired):
            up = False
    if not up:
        if os.environ.get("NEOCLOUD_REQUIRE_SLURM") == "1":
            pytest.fail(
                f"no Slurm controller answers for {CONF} but NEOCLOUD_REQUIRE_SLURM=1 (scripts/slurm-up.sh)"
            )
        pytest.skip(f"no Slurm at {CONF} (make test starts one with scripts/slurm-up.sh)")
    for user in USERS:
        if subprocess.run(["id", user], capture_output=True, check=False).returncode != 0:
            subprocess.run(["useradd", "-M", "-s", "/bin/bash", user], check=True)
    return CONF


def clean_slurm() -> None:
    """No job and no neocloud reservation left (tests share the cluster)."""
    for user in USERS:
        run("scancel", f"--user={user}")
    run("scancel", "--user=root")
    wait_for("jobs to end", lambda: not run("squeue", "-h", "-o", "%i").stdout.strip())
    for name in reservations():
        if name.startswith("nc-"):
            run("scontrol", "delete", f"reservation={name}")
    for user in USERS:  # a test's tenants are gone with its database: so are their users' associations
        run("sacctmgr", "-i", "remove", "user", user)


@dataclass
class Cloud:
    services: Services
    tmp: Path

    @property
    def control(self):
        return self.services.control

    @property
    def provisioner(self):
        return self.services.control.deps.provisioner

    def tenant(self, name: str) -> Principal:
        self.control.tenancy.create_tenant(name)
        _, secret = self.control.tenancy.create_token(name, "tenant-admin")
        return self.control.tenancy.authenticate(secret)


def make_cloud(tmp_path: Path, spot_notice: timedelta = timedelta(minutes=2), **slurm_kw) -> Cloud:
    settings = Settings(
        spot_notice=spot_notice,
        database_url=f"sqlite:///{tmp_path / 'neocloud.db'}",
        slurm=SlurmSettings(conf=CONF, **slurm_kw),
        billing=BillingSettings(settle_delay_seconds=0),
    )
    upgrade_database(settings)
    clock = SystemClock()
    services = build_services(settings, clock=clock, provisioner=slurm_provisioner(settings.slurm, clock))
    services.control.fleet.import_fleet(load_fleet(FLEET))
    return Cloud(services, tmp_path)


@pytest.fixture
def cloud(slurm: Path, tmp_path: Path) -> Iterator[Cloud]:
    clean_slurm()
    c = make_cloud(tmp_path)
    yield c
    c.services.close()
    clean_slurm()


@pytest.fixture
def rereading_cloud(slurm: Path, tmp_path: Path) -> Iterator[Cloud]:
    """A cloud whose provisioner re-reads Slurm's reservations on every pass (refresh 0), for tests of
    hand edits made between two passes (by default they are seen within SlurmSettings.refresh)."""
    clean_slurm()
    c = make_cloud(tmp_path, refresh=timedelta(0))
    yield c
    c.services.close()
    clean_slurm()

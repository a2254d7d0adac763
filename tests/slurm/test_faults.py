"""Faults on the real Slurm: the controller down during a provision, a worker killed mid-provision, and
changes made by hand in Slurm (or by neocloud: extend) repaired by the next reconcile pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from neocloud.control.app.views import ReservationRequest
from tests.slurm.conftest import CONF, STATE, Cloud, reservations, run, slurm_env, wait_for
from tests.slurm.crash_child import KILLED


def stop_slurmctld() -> None:
    pid = int((STATE / "run" / "slurmctld.pid").read_text())
    os.kill(pid, 15)
    wait_for("slurmctld to stop", lambda: "is DOWN" in run("scontrol", "ping").stdout)


def start_slurmctld() -> None:
    run("slurmctld", check=True)  # recovers its saved state (reservations included)
    wait_for("slurmctld to answer", lambda: "is UP" in run("scontrol", "ping").stdout)


def retry_events(cloud: Cloud, principal, allocation_id: str) -> list[str]:
    return [
        e.reason
        for e in cloud.control.allocations.list_events(principal, allocation_id)
        if e.from_state == e.to_state
    ]


def test_slurmctld_down_leaves_it_provisioning_with_the_cause_then_it_converges(cloud: Cloud) -> None:
    acme = cloud.tenant("acme")
    stop_slurmctld()
    try:
        r = cloud.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
        cloud.control.reconcile()
        assert cloud.control.reservations.get_reservation(acme, r.id).state == "provisioning"
        cloud.control.reconcile()  # the first retry is at once; the next ones back off
        cloud.control.reconcile()
        reasons = retry_events(cloud, acme, r.id)
        assert len(reasons) == 2 and all("slurmctld unreachable" in x for x in reasons)
        assert "retry 1 in 0s" in reasons[0] and "retry 2 in 1s" in reasons[1]  # the third pass waited
        assert cloud.control.reservations.get_reservation(acme, r.id).state == "provisioning"
    finally:
        start_slurmctld()

    def converged() -> bool:
        cloud.control.reconcile()
        return cloud.control.reservations.get_reservation(acme, r.id).state == "active"

    wait_for("the allocation to converge once slurmctld is back", converged)
    assert [n for n in reservations() if n.startswith("nc-")] == [f"nc-{r.id}"]


def test_a_worker_killed_mid_provision_is_finished_by_the_next_without_a_duplicate(cloud: Cloud) -> None:
    acme = cloud.tenant("acme")
    r = cloud.control.reservations.reserve(acme, ReservationRequest("H100", 16, 1, shape="whole-nodes"))
    url = cloud.services.settings.resolved_database_url
    child = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("crash_child.py")), url, str(CONF)],
        env={**slurm_env(), "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == KILLED, child.stderr
    assert cloud.control.reservations.get_reservation(acme, r.id).state == "provisioning"
    assert f"nc-{r.id}" in reservations()  # Slurm has it; neocloud has not recorded it

    cloud.control.reconcile()  # the next worker
    assert cloud.control.reservations.get_reservation(acme, r.id).state == "active"
    ours = [n for n in reservations() if n.startswith("nc-")]
    assert ours == [f"nc-{r.id}"]  # one reservation, not two


def field(name: str, key: str) -> str:
    line = reservations()[name]
    return line.split(f" {key}=")[1].split()[0]


def test_reconcile_repairs_hand_edits_and_applies_an_extension(rereading_cloud: Cloud) -> None:
    cloud = rereading_cloud
    acme = cloud.tenant("acme")
    r = cloud.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    cloud.control.reconcile()
    r = cloud.control.reservations.get_reservation(acme, r.id)
    name = f"nc-{r.id}"
    project = cloud.control.tenancy.list_projects(acme).items[0].id
    end = field(name, "EndTime")

    cloud.control.reservations.extend_reservation(acme, r.id, 2)  # neocloud's change → Slurm's
    cloud.control.reconcile()
    extended = cloud.control.reservations.get_reservation(acme, r.id).end
    assert field(name, "EndTime") == extended.strftime("%Y-%m-%dT%H:%M:%S") != end

    run("scontrol", "update", f"reservation={name}", "EndTime=now+5minutes", "Accounts=root", check=True)
    free = sorted(set(run("sinfo", "-h", "-N", "-o", "%N").stdout.split()) - set(r.nodes))
    run(
        "scontrol",
        "create",
        "reservation",
        "ReservationName=nc-rsv_ghost",
        "StartTime=now",
        "Duration=30",
        f"Nodes={free[0]}",
        "Accounts=root",
        check=True,
    )  # neocloud's by name, held by no allocation
    run(
        "scontrol",
        "create",
        "reservation",
        "ReservationName=site-maint",
        "StartTime=now+1day",
        "Duration=30",
        "Nodes=ALL",
        "Accounts=root",
        "Flags=MAINT",
        check=True,
    )
    try:
        report = cloud.control.reconcile()
        assert f"{r.id}: converge updated" in report.details
        assert "rsv_ghost: converge deleted" in report.details
        assert field(name, "EndTime") == extended.strftime("%Y-%m-%dT%H:%M:%S")
        assert field(name, "Accounts") == project
        assert (
            "nc-rsv_ghost" not in reservations() and "site-maint" in reservations()
        )  # the site's: untouched

        run("scontrol", "delete", f"reservation={name}", check=True)  # deleted by hand → made again
        report = cloud.control.reconcile()
        assert f"{r.id}: converge created" in report.details and name in reservations()
    finally:
        run("scontrol", "delete", "reservation=site-maint")

"""Instances on the real Slurm: an on-demand instance's reservation runs on a lease that neocloud renews
while the instance runs and ends when it is stopped; a spot preemption notice becomes Slurm's: the
reservation ends at the notice's end, its jobs get SIGTERM when the notice period begins, and then they
are cancelled (not requeued)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from neocloud.control.app.views import InstanceRequest, ReservationRequest
from tests.slurm.conftest import JOBS, Cloud, clean_slurm, job_state, make_cloud, reservations, run, wait_for


def end_of(name: str) -> datetime:
    text = reservations()[name].split(" EndTime=")[1].split()[0]
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


def test_an_on_demand_instance_runs_on_a_lease_and_its_reservation_goes_when_it_stops(cloud: Cloud) -> None:
    acme = cloud.tenant("acme")
    i = cloud.control.instances.create_instance(acme, InstanceRequest("H100", 1))
    before = datetime.now(UTC)
    cloud.control.reconcile()
    assert cloud.control.instances.get_instance(acme, i.id).state == "active"
    lease_end = end_of(f"nc-{i.id}")
    assert before + timedelta(minutes=59) <= lease_end <= datetime.now(UTC) + timedelta(hours=1)
    cloud.control.instances.stop_instance(acme, i.id)
    cloud.control.reconcile()
    assert f"nc-{i.id}" not in reservations()


def test_a_spot_notice_ends_the_reservation_signals_then_cancels_its_jobs(
    slurm: Path, tmp_path: Path
) -> None:
    clean_slurm()
    cloud = make_cloud(tmp_path, spot_notice=timedelta(seconds=5))
    try:
        acme, rival = cloud.tenant("acme"), cloud.tenant("rival")
        cloud.control.slurm.add_user(acme, "nc-t-alice")
        account = cloud.control.tenancy.list_projects(acme).items[0].id
        spot = cloud.control.instances.create_instance(acme, InstanceRequest("H100", 2, spot=True))
        cloud.control.reconcile()
        name = f"nc-{spot.id}"
        marker = JOBS / f"{spot.id}.term"
        script = JOBS / f"{spot.id}.sh"
        script.write_text(f"#!/bin/bash\ntrap 'echo TERM > {marker}; sleep 30' TERM\nsleep 300 & wait\n")
        script.chmod(0o755)
        job = run(
            "sbatch",
            "--parsable",
            f"--reservation={name}",
            f"--account={account}",
            "--mem=100",
            "-o",
            "/dev/null",
            "-D",
            str(JOBS),
            str(script),
            user="nc-t-alice",
        ).stdout.strip()
        wait_for("the spot job to run", lambda: job_state(job) == "RUNNING")

        # a reservation of the whole fleet from 15 s on takes the spot GPUs: the spot instance gets notice
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=15)
        cloud.control.reservations.reserve(rival, ReservationRequest("H100", 32, 1, start=start))
        assert cloud.control.instances.get_instance(acme, spot.id).notice_until == start
        cloud.control.reconcile()
        assert end_of(name) == start  # Slurm's reservation now ends when the notice does
        assert not marker.exists()  # the notice period (5 s) has not begun yet

        def signalled() -> bool:
            cloud.control.reconcile()
            return marker.exists()

        wait_for("the job to get SIGTERM once the notice period begins", signalled)

        def preempted() -> bool:
            cloud.control.reconcile()
            return cloud.control.instances.get_instance(acme, spot.id).state == "preempted"

        wait_for("the spot instance to be preempted at the notice's end", preempted)
        assert name not in reservations()
        assert wait_for(
            "the job to end", lambda: (s := job_state(job)) not in ("RUNNING", "PENDING", "") and s
        )
        assert job_state(job) == "CANCELLED"  # cancelled with its reservation, not requeued
    finally:
        cloud.services.close()
        clean_slurm()

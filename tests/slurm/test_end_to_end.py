"""The acceptance path as a tenant walks it, on the real Slurm: reserve 2 nodes → a Slurm reservation on
exactly those nodes → a job submitted into it runs there and sees its GPUs → cancel → the reservation is
gone and a new job naming it is refused → the job shows in usage by job and reconcile has 0 differences."""

from __future__ import annotations

from decimal import Decimal

from neocloud.billing.app.jobs import with_jobs
from neocloud.control.app.views import ReservationRequest
from tests.slurm.conftest import JOBS, Cloud, reservations, run, wait_for, wait_job_done


def test_a_tenant_reserves_runs_a_job_in_it_cancels_and_is_billed_for_it(cloud: Cloud) -> None:
    acme = cloud.tenant("acme")
    project = cloud.control.tenancy.list_projects(acme).items[0]
    assert cloud.control.slurm.add_user(acme, "nc-t-alice").users == ["nc-t-alice"]

    r = cloud.control.reservations.reserve(acme, ReservationRequest("H100", 16, 1, shape="whole-nodes"))
    cloud.control.reconcile()
    r = cloud.control.reservations.get_reservation(acme, r.id)
    assert r.state == "active"

    name = f"nc-{r.id}"
    line = reservations()[name]
    assert f"Accounts={project.id}" in line
    nodes = sorted(r.nodes)
    assert len(nodes) == 2
    shown = run("scontrol", "show", "hostnames", line.split("Nodes=")[1].split()[0]).stdout.split()
    assert sorted(shown) == nodes  # exactly the allocation's nodes

    script = JOBS / f"{r.id}.sh"
    script.write_text(
        "#!/bin/bash\nsrun bash -c 'echo \"$SLURMD_NODENAME gpus=$CUDA_VISIBLE_DEVICES\"; sleep 2'\n"
    )
    script.chmod(0o755)
    sub = run(
        "sbatch",
        "--parsable",
        f"--reservation={name}",
        f"--account={project.id}",
        "-N",
        "2",
        "--gres=gpu:h100:8",
        "--mem=100",
        "-o",
        str(JOBS / "%j.out"),
        str(script),
        user="nc-t-alice",
    )
    assert sub.returncode == 0, sub.stderr
    job = sub.stdout.strip().split(";")[0]
    assert wait_job_done(job) == "COMPLETED"
    printed = sorted((JOBS / f"{job}.out").read_text().split("\n"))[1:]
    assert [p.split()[0] for p in printed] == nodes  # it ran there, on both nodes
    assert all(p.split()[1] == "gpus=0,1,2,3,4,5,6,7" for p in printed)  # and saw its 8 GPUs each

    cloud.control.reservations.cancel_reservation(acme, r.id)
    cloud.control.reconcile()
    assert cloud.control.reservations.get_reservation(acme, r.id).state == "ended"
    assert name not in reservations()
    refused = run(
        "sbatch",
        f"--reservation={name}",
        f"--account={project.id}",
        "--mem=100",
        "--wrap",
        "true",
        user="nc-t-alice",
    )
    assert refused.returncode != 0 and "reservation is invalid" in refused.stderr

    # sacct's time-window query sees a finished job a moment after `sacct -j` does: wait for it (bounded)
    seen = wait_for(
        "the job in usage by job",
        lambda: next((j for j in cloud.control.jobs.usage(acme)[1] if j.job_id == job), None),
    )
    assert (seen.allocation_id, seen.gpus, seen.user, seen.outside_seconds) == (r.id, 16, "nc-t-alice", 0)
    assert seen.gpu_seconds == 16 * int((seen.end - seen.start).total_seconds())

    billing = cloud.services.billing
    billing.meter()
    report = billing.reconcile()
    doc = with_jobs(
        report, cloud.control.jobs.report(report.period.start), billing.billed_by_allocation(report.period)
    )
    assert doc["differences"] == []
    assert doc["jobs"]["outside_paid_window_seconds"] == 0
    row = next(a for a in doc["jobs"]["allocations"] if a["allocation_id"] == r.id)
    assert row["job_gpu_seconds"] == seen.gpu_seconds >= 16 * 2  # the job's 2 s on 16 GPUs, at least
    assert row["billed_gpu_seconds"] > 0
    assert row["utilisation"] == str(
        (Decimal(row["job_gpu_seconds"]) / Decimal(row["billed_gpu_seconds"])).quantize(Decimal("0.0001"))
    )

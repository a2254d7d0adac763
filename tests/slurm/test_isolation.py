"""Isolation on the real Slurm, enforced by Slurm itself: tenant B's jobs cannot use A's reservation
(neither by naming it nor by borrowing A's account), B sees nothing of A in Slurm, and no job from outside
A's reservation lands on A's nodes during its window, checked with every other node full so that the
check cannot pass vacuously."""

from __future__ import annotations

from neocloud.control.app.views import ReservationRequest
from tests.slurm.conftest import JOBS, Cloud, run, wait_for

SLEEP = ["--mem=100", "-o", "/dev/null", "--wrap", "sleep 120"]


def squeue_of(job: str) -> tuple[str, str, str]:
    """(state, reason, nodes) of a job, as root sees it."""
    line = run("squeue", "-h", "-j", job, "-o", "%T|%r|%N").stdout.strip()
    state, reason, nodes = ([*line.split("|"), "", "", ""])[:3]
    return state, reason, nodes


def submit(user: str, *args: str) -> str:
    done = run("sbatch", "--parsable", *args, user=user)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().split(";")[0]


def test_another_tenant_is_refused_by_slurm_and_never_lands_on_the_reserved_nodes(cloud: Cloud) -> None:
    acme, rival = cloud.tenant("acme"), cloud.tenant("rival")
    cloud.control.slurm.add_user(acme, "nc-t-alice")
    cloud.control.slurm.add_user(rival, "nc-t-bob")
    acme_account = cloud.control.tenancy.list_projects(acme).items[0].id
    rival_account = cloud.control.tenancy.list_projects(rival).items[0].id
    r = cloud.control.reservations.reserve(acme, ReservationRequest("H100", 16, 1, shape="whole-nodes"))
    cloud.control.reconcile()
    assert cloud.control.reservations.get_reservation(acme, r.id).state == "active"
    name, mine = f"nc-{r.id}", set(cloud.control.reservations.get_reservation(acme, r.id).nodes)

    # B naming A's reservation, with its own account or with A's: refused at submission, by Slurm
    own = run("sbatch", f"--reservation={name}", f"--account={rival_account}", *SLEEP, user="nc-t-bob")
    assert own.returncode != 0 and "Access denied to requested reservation" in own.stderr
    borrowed = run("sbatch", f"--reservation={name}", f"--account={acme_account}", *SLEEP, user="nc-t-bob")
    assert borrowed.returncode != 0 and "Invalid account" in borrowed.stderr

    # B sees nothing of A in Slurm: not its reservation, not its jobs
    a_job = submit(
        "nc-t-alice", f"--reservation={name}", f"--account={acme_account}", "-N", "1", "-D", str(JOBS), *SLEEP
    )
    assert name not in run("scontrol", "show", "reservation", user="nc-t-bob").stdout
    assert a_job not in run("squeue", "-h", "-o", "%i", user="nc-t-bob").stdout.split()
    assert a_job in run("squeue", "-h", "-o", "%i", user="nc-t-alice").stdout.split()

    # fill every node outside A's reservation, as B and as the site (root), and see them run there
    others = sorted(set(run("sinfo", "-h", "-N", "-o", "%N").stdout.split()) - mine)
    assert len(others) == 2
    fillers = [
        submit("nc-t-bob", f"--account={rival_account}", "--exclusive", "-w", n, "-D", str(JOBS), *SLEEP)
        for n in others
    ]
    for job in fillers:
        wait_for(f"filler {job} to run", lambda job=job: squeue_of(job)[0] == "RUNNING")
    assert sorted(squeue_of(j)[2] for j in fillers) == others  # every other node is now busy

    # now a job from outside, B's and the site's, can only run on A's idle nodes: Slurm keeps it pending
    outside = [
        submit("nc-t-bob", f"--account={rival_account}", "-N", "1", "-D", str(JOBS), *SLEEP),
        submit("root", "-N", "1", "-D", str(JOBS), *SLEEP),
    ]
    for job in outside:  # the scheduler has looked at it (it sets a reason) and left it pending
        wait_for(f"the scheduler to decide on {job}", lambda job=job: squeue_of(job)[1] not in ("", "None"))
        state, reason, nodes = squeue_of(job)
        assert state == "PENDING", (job, state, reason, nodes)
        assert not set(nodes.split(",")) & mine
    assert squeue_of(a_job)[0] == "RUNNING" and squeue_of(a_job)[2] in mine  # while A's own job runs there

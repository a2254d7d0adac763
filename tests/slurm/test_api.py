"""The Slurm side of the API and its client, on the real Slurm: a tenant-admin declares a Slurm user,
reserves, reads how to run in it, runs a job, and sees it in GET /v1/usage?by=job; another tenant sees
nothing of it and cannot take the user; a viewer cannot declare users."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from neocloud.api.app import create_app
from neocloud.client import ApiError, NeocloudClient
from neocloud.client.slurm import SlurmClient
from neocloud.control.domain.tenancy import Role
from neocloud.wire.capacity import ReservationOut
from tests.slurm.conftest import JOBS, Cloud, run, wait_for, wait_job_done


def test_users_access_and_usage_by_job_over_the_api(cloud: Cloud) -> None:
    app = create_app(cloud.services)
    cp = cloud.control
    cp.tenancy.create_tenant("acme")
    cp.tenancy.create_tenant("rival")

    def client(tenant: str, role: Role) -> NeocloudClient:
        token = cp.tenancy.create_token(tenant, role)[1]
        http = TestClient(app, headers={"Authorization": f"Bearer {token}"}, raise_server_exceptions=False)
        return NeocloudClient("http://testserver", token, http=http)

    acme, rival, viewer = (
        client("acme", Role.TENANT_ADMIN),
        client("rival", Role.TENANT_ADMIN),
        client("acme", Role.VIEWER),
    )

    assert SlurmClient(acme).add_user("nc-t-alice").users == ["nc-t-alice"]
    assert SlurmClient(acme).users().users == ["nc-t-alice"]
    with pytest.raises(ApiError) as taken:
        SlurmClient(rival).add_user("nc-t-alice")
    assert taken.value.status == 409 and "acme" not in taken.value.message  # never names the other tenant
    with pytest.raises(ApiError) as ro:
        SlurmClient(viewer).add_user("nc-t-carol")
    assert ro.value.status == 403
    with pytest.raises(ApiError) as bad:
        SlurmClient(acme).add_user("Root;rm")
    assert bad.value.status == 422
    assert SlurmClient(rival).users().users == []

    r = ReservationOut.model_validate(
        acme._request(
            "POST", "/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 1}, idempotency_key="k1"
        )
    )
    cp.reconcile()
    access = SlurmClient(acme).access(r.id)
    assert (access.reservation, access.partition) == (f"nc-{r.id}", "h100")
    with pytest.raises(ApiError) as hidden:
        SlurmClient(rival).access(r.id)
    assert hidden.value.status == 404

    argv = access.sbatch.split()  # the example line, as the tenant would paste it (script last)
    assert argv[0] == "sbatch" and argv[-1] == "job.sh"
    (JOBS / f"{r.id}.sh").write_text("#!/bin/bash\nsleep 1\necho gpus=$CUDA_VISIBLE_DEVICES\n")
    done = run(
        *argv[:-1], "--parsable", "--mem=100", "-D", str(JOBS), str(JOBS / f"{r.id}.sh"), user="nc-t-alice"
    )
    assert done.returncode == 0, done.stderr
    job = done.stdout.strip().split(";")[0]
    assert wait_job_done(job) == "COMPLETED"

    usage = wait_for(
        "the job in usage by job",
        lambda: (u := SlurmClient(acme).job_usage()) and any(i.job_id == job for i in u.items) and u,
    )
    item = next(i for i in usage.items if i.job_id == job)
    assert (item.allocation_id, item.user, item.gpus, item.outside_paid_window_seconds) == (
        r.id,
        "nc-t-alice",
        8,
        "0",
    )
    assert int(item.gpu_seconds) >= 8
    assert all(i.job_id != job for i in SlurmClient(rival).job_usage().items)

    assert SlurmClient(acme).remove_user("nc-t-alice").users == []

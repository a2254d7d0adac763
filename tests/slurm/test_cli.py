"""A tenant and an operator at the command line, against a neocloud server on the real Slurm: declare a
Slurm user, reserve, read how to run in it from `reservations show`, run the example line, see the job
in `usage --by job`, and the operator's `billing reconcile` (configured by NEOCLOUD_PROVISIONER=slurm)
with the job side and 0 differences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from neocloud.api.app import create_app
from neocloud.cli.main import _register, app
from neocloud.control.domain.tenancy import Role
from tests.integration.api_world import LiveServer
from tests.slurm.conftest import CONF, JOBS, Cloud, run, wait_for, wait_job_done


def test_a_tenant_at_the_command_line(cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _register()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    cloud.control.tenancy.create_tenant("acme")
    token = cloud.control.tenancy.create_token("acme", Role.TENANT_ADMIN)[1]
    with LiveServer(create_app(cloud.services)) as server:

        def cli(*args: str) -> str:
            result = CliRunner().invoke(app, ["--url", server.url, "--token", token, *args])
            assert result.exit_code == 0, result.output
            return result.stdout

        assert "nc-t-alice" in cli("slurm", "users", "add", "nc-t-alice")
        assert json.loads(cli("slurm", "users", "list", "--json"))["users"] == ["nc-t-alice"]
        rid = json.loads(cli("reserve", "--model", "H100", "--gpus", "8", "--hours", "1", "--json"))["id"]
        cloud.control.reconcile()  # the worker's pass
        shown = cli("reservations", "show", rid)
        assert f"nc-{rid}" in shown and "sbatch --reservation=" in shown
        access = json.loads(cli("reservations", "show", rid, "--json"))["access"]
        line = access["sbatch"].split()
        (JOBS / "job.sh").write_text("#!/bin/bash\nsleep 1\n")
        done = run(
            *line[:-1],
            "--parsable",
            "--mem=100",
            "-o",
            "/dev/null",
            "-D",
            str(JOBS),
            str(JOBS / "job.sh"),
            user="nc-t-alice",
        )
        assert done.returncode == 0, done.stderr
        job = done.stdout.strip().split(";")[0]
        assert wait_job_done(job) == "COMPLETED"

        def listed() -> dict | None:
            items = json.loads(cli("usage", "--by", "job", "--json"))["items"]
            return next((i for i in items if i["job_id"] == job), None)

        item = wait_for("the job in usage --by job", listed)
        assert (item["allocation_id"], item["gpus"], item["outside_paid_window_seconds"]) == (rid, 8, "0")

    monkeypatch.setenv("NEOCLOUD_DATABASE_URL", cloud.services.settings.resolved_database_url)
    monkeypatch.setenv("NEOCLOUD_PROVISIONER", "slurm")
    monkeypatch.setenv("NEOCLOUD_SLURM_CONF", str(CONF))
    assert CliRunner().invoke(app, ["billing", "meter"]).exit_code == 0
    result = CliRunner().invoke(app, ["billing", "reconcile", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["differences"] == []
    row = next(a for a in report["jobs"]["allocations"] if a["allocation_id"] == rid)
    assert row["job_gpu_seconds"] == int(item["gpu_seconds"]) and row["utilisation"]

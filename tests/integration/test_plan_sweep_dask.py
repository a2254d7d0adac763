"""`neocloud plan sweep` on a real Dask cluster bound to 127.0.0.1, against the local process pool.

The test starts `dask scheduler` and `dask worker` processes on loopback only, runs a small sweep on them
through the CLI, checks with psutil that no process of the engine has a socket on a non-loopback address,
stops them, and asserts that the rows equal those of the process pool (and of a serial run).

`--no-dashboard` is not enough: with it, distributed 2026.8 still listened on 0.0.0.0:8787 (scheduler)
and 0.0.0.0:<random> (each worker) in this test, so the dashboards are bound to 127.0.0.1 explicitly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from neocloud.cli.main import _register, app
from neocloud.plan import sweep

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
GRID = "price=3.5,4.5,utilisation=0.55,0.75"
runner = CliRunner()


def dask_bin() -> str:
    path = Path(sys.executable).with_name("dask")
    assert path.exists(), "Dask distributed must be installed (the dev extra has it)"
    return str(path)


def sockets(pids: list[int]) -> list[tuple[int, str, str]]:
    """(pid, local address, remote address) of every inet socket of `pids` and their children."""
    out = []
    for pid in pids:
        proc = psutil.Process(pid)
        for p in [proc, *proc.children(recursive=True)]:
            for c in p.net_connections(kind="inet"):
                out.append((p.pid, c.laddr.ip if c.laddr else "", c.raddr.ip if c.raddr else ""))
    return out


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "sim.json"
    _register()
    out = runner.invoke(
        app,
        ["plan", "--preset", "campus-1gw", "--days", "1", "--save-sim", str(path), "--json"],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    return path


@pytest.fixture()
def cluster(tmp_path):
    info = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    common = {
        "env": env,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "start_new_session": True,
    }
    scheduler = subprocess.Popen(
        [
            dask_bin(),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            str(info),
        ],
        **common,
    )
    procs = [scheduler]
    try:
        for _ in range(600):
            if info.exists() and info.stat().st_size:
                break
            assert scheduler.poll() is None, "the Dask scheduler exited"
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = subprocess.Popen(
            [
                dask_bin(),
                "worker",
                address,
                "--host",
                "127.0.0.1",
                "--nworkers",
                "2",
                "--nthreads",
                "1",
                "--dashboard-address",
                "127.0.0.1:0",
            ],
            **common,
        )
        procs.append(worker)
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, [p.pid for p in procs]
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def run_cli(*args: str) -> dict:
    _register()
    out = runner.invoke(
        app, ["plan", "sweep", "campus-1gw", "--grid", GRID, "--json", *args], catch_exceptions=False
    )
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_dask_sweep_equals_the_process_pool_and_stays_on_loopback(saved, cluster):
    address, pids = cluster
    on_dask = run_cli("--from-sim", str(saved), "--cluster", address)
    engine_sockets = sockets(pids)
    assert engine_sockets, "the engine's processes should have sockets to inspect"
    outside = [s for s in engine_sockets if s[1] not in LOOPBACK or (s[2] and s[2] not in LOOPBACK)]
    assert outside == []
    on_pool = run_cli("--from-sim", str(saved), "--workers", "2")
    assert on_dask["executor"] == "dask" and on_pool["executor"] == "processes"
    assert len(on_dask["points"]) == 4
    assert on_dask["points"] == on_pool["points"]
    assert {(p["point"]["price"], p["point"]["utilisation"]) for p in on_dask["points"]} == {
        ("3.5", "0.55"),
        ("3.5", "0.75"),
        ("4.5", "0.55"),
        ("4.5", "0.75"),
    }


def test_pool_equals_serial_and_npv_rises_with_price(saved):
    items = sweep.tasks(
        "campus-1gw", sweep.parse_grid([GRID]), days=None, seed=0, saved=json.loads(saved.read_text())
    )
    pooled = sweep.run(items, workers=2)
    assert pooled == sweep.run_serial(items)
    by_point = {(r["point"]["price"], r["point"]["utilisation"]): float(r["npv"]) for r in pooled}
    assert by_point[("4.5", "0.55")] > by_point[("3.5", "0.55")]
    assert by_point[("3.5", "0.75")] > by_point[("3.5", "0.55")]

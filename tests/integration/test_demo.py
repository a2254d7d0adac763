"""The demo: its fleet, its seeded world, and `neocloud demo` end to end (start, serve, Ctrl-C, again)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from neocloud.bootstrap import Settings, build_services
from neocloud.cli.demo import demo_fleet, seed
from neocloud.control.domain.tenancy import Role
from neocloud.infra.clock import ManualClock
from tests.integration.api_world import free_port

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_demo_fleet_has_gb200_nvl72_racks_and_an_h100_su() -> None:
    fleet = demo_fleet()
    by_domain: dict[str, int] = {}
    for n in fleet.nodes:
        if n.model == "GB200":
            by_domain[n.nvlink] = by_domain.get(n.nvlink, 0) + n.gpus
    assert set(fleet.gpus_by_model()) == {"GB200", "H100"}
    assert by_domain and set(by_domain.values()) == {72}


def test_seed_gives_two_tenants_with_admin_tokens() -> None:
    control = build_services(Settings(database_url="memory"), clock=ManualClock(NOW)).control
    world = seed(control, NOW)
    roles = {name: control.tenancy.authenticate(token).role for name, token in world.tenant_tokens.items()}
    assert roles == {"acme": Role.TENANT_ADMIN, "globex": Role.TENANT_ADMIN}


def test_seed_makes_reservations_and_on_demand_and_spot_instances() -> None:
    control = build_services(Settings(database_url="memory"), clock=ManualClock(NOW)).control
    world = seed(control, NOW)
    operator = control.tenancy.authenticate(world.operator_token)
    instances = control.instances.list_instances(operator).items
    assert control.reservations.list_reservations(operator).total == len(world.reservations) >= 3
    assert {i.spot for i in instances} == {True, False}


def _start_demo(port: int, data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from neocloud.cli.main import main; main()",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--provision-delay",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _wait_ready(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the demo did not become ready")


def _run_demo_once(data_dir: Path) -> tuple[int, str, int]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start_demo(port, data_dir)
    try:
        _wait_ready(url, proc)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, port


def test_demo_serves_its_tenants_then_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start_demo(port, tmp_path)
    try:
        _wait_ready(url, proc)
        time.sleep(0.5)  # the panel is printed before the server starts; let the pipe catch up
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert f"{url}/docs" in out and "demo stopped" in out
    assert re.search(r"acme token\s+nc_", out) and re.search(r"globex token\s+nc_", out)


def test_demo_token_works_against_the_served_api(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start_demo(port, tmp_path)
    lines: list[str] = []
    try:
        _wait_ready(url, proc)
        assert proc.stdout is not None
        while not any("globex token" in line for line in lines):
            lines.append(proc.stdout.readline())
        token = re.search(r"acme token\s+(nc_[A-Za-z0-9_-]+)", "".join(lines))
        assert token is not None
        r = httpx.get(f"{url}/v1/reservations", headers={"Authorization": f"Bearer {token.group(1)}"})
        assert r.status_code == 200 and r.json()["total"] >= 1
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_demo_runs_again_on_the_same_data_dir(tmp_path: Path) -> None:
    first, _, _ = _run_demo_once(tmp_path)
    second, out, _ = _run_demo_once(tmp_path)
    assert (first, second) == (0, 0), out

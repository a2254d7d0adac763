"""The demo: its fleet, its seeded world, and `neocloud demo` end to end (start, serve, Ctrl-C, again), as\n`make run` shows it at 80 columns, with an invoiced past month, gone without a trace after SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from neocloud.bootstrap import Settings, build_services
from neocloud.cli.demo import demo_fleet, finished_month, seed
from neocloud.cli.main import _register, app
from neocloud.control.domain.tenancy import Role
from neocloud.infra.clock import ManualClock
from tests.integration.api_world import free_port

pytestmark = pytest.mark.timeout(180)  # a demo that never prints its last hint would block a readline

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


TOKEN = r"nc_[A-Za-z0-9_-]{43}"
LAST_HINT = "  neocloud billing reconcile"


def _start_demo_at_80_columns(port: int, tmp: Path) -> subprocess.Popen[str]:
    """`neocloud demo` as `make run` starts it (its own temporary data dir, here under `tmp`), 80 columns."""
    env = {**os.environ, "COLUMNS": "80", "TMPDIR": str(tmp)}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from neocloud.cli.main import main; main()",
            "demo",
            "--port",
            str(port),
            "--provision-delay",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _banner(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    while LAST_HINT not in lines:
        line = proc.stdout.readline()
        assert line, "".join(lines)
        lines.append(line.rstrip("\n"))
    return lines


@pytest.fixture(scope="module")
def demo_at_80(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    port = free_port()
    proc = _start_demo_at_80_columns(port, tmp_path_factory.mktemp("demo80"))
    try:
        banner = _banner(proc)
        _wait_ready(f"http://127.0.0.1:{port}", proc)
        yield f"http://127.0.0.1:{port}", banner
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def _tokens(banner: list[str]) -> dict[str, str]:
    found = {}
    for line in banner:
        match = re.fullmatch(rf"│ (\w+) token\s+({TOKEN})\s+│", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_demo_banner_at_80_columns_shows_every_token_whole(demo_at_80: tuple[str, list[str]]) -> None:
    _, banner = demo_at_80
    assert set(_tokens(banner)) == {"operator", "acme", "globex"}
    # Only the data dir's own lines may be longer: it is as long as the machine's temporary path.
    too_long = [line for line in banner if len(line) > 80 and "neocloud-demo-" not in line]
    assert not too_long, too_long


def test_demo_try_hints_are_whole_lines_at_80_columns(demo_at_80: tuple[str, list[str]]) -> None:
    url, banner = demo_at_80
    acme = _tokens(banner)["acme"]
    for hint in (
        f"  export NEOCLOUD_URL={url}",
        f"  export NEOCLOUD_TOKEN={acme}",
        "  neocloud reserve --model GB200 --gpus 72 --hours 8 --shape whole-nvl72 --quote",
        '  curl -H "Authorization: Bearer $NEOCLOUD_TOKEN" $NEOCLOUD_URL/v1/reservations',
        "  neocloud invoices list",
        "  neocloud revenue --by tenant",
    ):
        assert hint in banner, (hint, banner)
    assert any(re.fullmatch(r"  export NEOCLOUD_DATA_DIR=/\S+/neocloud-demo-\w+", line) for line in banner)


def test_demo_has_an_invoiced_past_month_over_http(demo_at_80: tuple[str, list[str]]) -> None:
    url, banner = demo_at_80
    month = finished_month(datetime.now(UTC)).label()
    tokens = _tokens(banner)

    def invoices(who: str) -> list[dict[str, str]]:
        r = httpx.get(f"{url}/v1/invoices", headers={"Authorization": f"Bearer {tokens[who]}"})
        assert r.status_code == 200, r.text
        return [i for i in r.json() if i["period"] == month]

    assert {(i["kind"], i["state"]) for i in invoices("globex")} == {
        ("invoice", "finalized"),
        ("credit-note", "finalized"),
    }
    assert {(i["kind"], i["state"]) for i in invoices("acme")} == {("invoice", "paid")}
    hint = next(line for line in banner if line.startswith("  INVOICE="))
    r = httpx.get(
        f"{url}/v1/invoices/{hint.split('=', 1)[1]}/download",
        params={"format": "csv"},
        headers={"Authorization": f"Bearer {tokens['acme']}"},
    )
    assert r.status_code == 200 and "H100" in r.text


def test_demo_revenue_has_rows_and_its_past_month_reconciles(demo_at_80: tuple[str, list[str]]) -> None:
    _, banner = demo_at_80
    data_dir = next(line for line in banner if "export NEOCLOUD_DATA_DIR=" in line).split("=", 1)[1]
    month = finished_month(datetime.now(UTC)).label()
    _register()
    revenue = CliRunner().invoke(app, ["revenue", "--by", "tenant", "--json", "--data-dir", data_dir])
    assert revenue.exit_code == 0, revenue.output
    assert len(json.loads(revenue.stdout)["items"]) == 2
    report = CliRunner().invoke(
        app, ["billing", "reconcile", "--period", month, "--json", "--data-dir", data_dir]
    )
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["differences"] == []
    assert json.loads(report.stdout)["invoiced_seconds"] != "0"


def test_demo_removes_its_temporary_data_dir_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = _start_demo_at_80_columns(port, tmp_path)
    try:
        _banner(proc)
        _wait_ready(f"http://127.0.0.1:{port}", proc)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("neocloud-demo-")]
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "demo stopped" in out, out
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("neocloud-demo-")]

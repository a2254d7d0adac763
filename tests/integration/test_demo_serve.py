"""`neocloud serve` refuses an un-migrated database; the reconciler loop the server runs keeps going, and\nmeters usage, so no worker is needed beside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from neocloud.bench.process import ENTRY, ServerProcess, free_port
from neocloud.cli.main import _register, app
from neocloud.cli.server import ReconcilerLoop
from neocloud.kernel.ids import TenantId
from neocloud.kernel.periods import Period


def test_serve_refuses_an_unmigrated_database_with_the_upgrade_hint(tmp_path: Path) -> None:
    _register()
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = CliRunner().invoke(app, ["serve", "--database-url", url, "--port", "1"])
    assert result.exit_code == 1
    assert "neocloud db upgrade" in result.stderr


class _Control:
    def __init__(self, fail_first: int, wanted: int) -> None:
        self.calls = 0
        self.fail_first = fail_first
        self.done = threading.Event()
        self.wanted = wanted

    def reconcile(self) -> None:
        self.calls += 1
        if self.calls >= self.wanted:
            self.done.set()
        if self.calls <= self.fail_first:
            raise RuntimeError("database hiccup")


def test_reconciler_loop_keeps_reconciling_after_a_failing_pass(caplog: pytest.LogCaptureFixture) -> None:
    control = _Control(fail_first=2, wanted=4)
    loop = ReconcilerLoop(control, interval=0.001).start()
    try:
        assert control.done.wait(10)
    finally:
        loop.stop()
    assert loop.failures == 2 and loop.passes >= 2


def test_reconciler_loop_stops_when_told() -> None:
    control = _Control(fail_first=0, wanted=1)
    loop = ReconcilerLoop(control, interval=3600).start()
    assert control.done.wait(10)
    loop.stop(timeout=10)  # interrupts the hour-long wait between passes
    assert not loop._thread.is_alive() and control.calls == 1


class _Metered:
    def __init__(self) -> None:
        self.calls = 0
        self.done = threading.Event()

    def __call__(self) -> None:
        self.calls += 1
        self.done.set()


def test_reconciler_loop_meters_on_its_first_pass_then_every_meter_every_seconds() -> None:
    control, meter = _Control(fail_first=0, wanted=5), _Metered()
    loop = ReconcilerLoop(control, interval=0.001, meter=meter, meter_every=3600).start()
    try:
        assert control.done.wait(10) and meter.done.wait(10)
    finally:
        loop.stop()
    assert meter.calls == 1 and loop.meter_passes == 1 and control.calls >= 5


def _ended_instance_an_hour_ago(data_dir: Path) -> tuple[str, Period]:
    """A tenant whose on-demand instance ran from two hours ago for 31 minutes (so its usage is settled),
    written on a backdated clock and never metered. Returns the tenant id and a period around it."""
    from datetime import UTC, datetime, timedelta

    from neocloud.bootstrap import Settings, build_services, manual_clock, upgrade_database
    from neocloud.control.app.views import InstanceRequest
    from neocloud.control.domain.tenancy import Role
    from tests.builders import fleet, node

    settings = Settings(data_dir=data_dir)
    upgrade_database(settings)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    clock = manual_clock(start)
    services = build_services(settings, clock=clock)
    control = services.control
    control.fleet.import_fleet(fleet(node("n1"), node("n2")))
    tenant = control.tenancy.create_tenant("acme")
    who = control.tenancy.authenticate(control.tenancy.create_token("acme", Role.TENANT_ADMIN)[1])
    instance = control.instances.create_instance(who, InstanceRequest("H100", 1))
    control.reconcile()
    clock.set(start + timedelta(minutes=1))
    control.reconcile()
    clock.set(start + timedelta(minutes=31))
    control.instances.stop_instance(who, instance.id)
    control.reconcile()
    clock.set(start + timedelta(minutes=32))
    control.reconcile()
    services.close()
    return tenant.id, Period(start - timedelta(hours=1), start + timedelta(hours=3))


def _ledger(data_dir: Path, tenant: str, period: Period) -> dict[str, int]:
    from neocloud.bootstrap import Settings, build_services

    services = build_services(Settings(data_dir=data_dir))
    try:
        assert services.billing is not None
        return services.billing.usage(tenant=TenantId(tenant), period=period)
    finally:
        services.close()


def test_serve_meters_usage_by_default_without_a_worker(tmp_path: Path) -> None:
    tenant, period = _ended_instance_an_hour_ago(tmp_path)
    assert _ledger(tmp_path, tenant, period) == {}
    with ServerProcess(f"sqlite:///{tmp_path / 'neocloud.db'}", data_dir=tmp_path):
        deadline = time.monotonic() + 30
        while not _ledger(tmp_path, tenant, period) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert _ledger(tmp_path, tenant, period) == {"H100": 8 * 31 * 60 * 1000}  # 8 GPUs for 31 min, in milli


def test_serve_without_metering_says_loudly_that_a_worker_must_meter(tmp_path: Path) -> None:
    from neocloud.bootstrap import Settings, upgrade_database

    upgrade_database(Settings(data_dir=tmp_path))
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            ENTRY,
            "serve",
            "--data-dir",
            str(tmp_path),
            "--port",
            str(port),
            "--meter-every",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "does not meter usage" in out and "neocloud worker" in out

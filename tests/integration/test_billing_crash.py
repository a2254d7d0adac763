"""SIGKILL during metering and during invoice finalization, then restart: nothing lost, nothing billed
twice. The child process stops inside its write transaction and says so; only then is it killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from neocloud.bootstrap import Services, Settings, build_services, upgrade_database
from neocloud.control.app.views import InstanceRequest
from neocloud.infra.clock import ManualClock
from neocloud.kernel.periods import Period
from tests.control_builders import h100_fleet

pytestmark = pytest.mark.timeout(120)
REPO = Path(__file__).resolve().parents[2]
OCTOBER = Period.month(2026, 10)
TENANTS = {"acme": 3, "globex": 5, "initech": 7}  # hours each tenant's 8-GPU instance ran


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    upgrade_database(Settings.from_env(tmp_path))
    clock = ManualClock(datetime(2026, 10, 5, 9, tzinfo=UTC))
    services = build_services(Settings.from_env(tmp_path), clock=clock)
    try:
        cp = services.control
        cp.fleet.import_fleet(h100_fleet())
        for name, hours in TENANTS.items():
            cp.tenancy.create_tenant(name)
            principal = cp.tenancy.authenticate(cp.tenancy.create_token(name, "tenant-admin")[1])
            instance = cp.instances.create_instance(principal, InstanceRequest(model="H100", nodes=1))
            cp.reconcile()
            clock.advance(timedelta(hours=hours))
            cp.instances.stop_instance(principal, instance.id)
            cp.reconcile()
    finally:
        services.engine.dispose()
    return tmp_path


def crash(data_dir: Path, mode: str) -> None:
    """Run the child until it is inside its transaction, then SIGKILL it."""
    env = {**os.environ, "NEOCLOUD_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    env.pop("NEOCLOUD_DATABASE_URL", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.billing_crash_child", mode],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "IN-TRANSACTION", child.stderr.read() if child.stderr else line
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL


def services(data_dir: Path) -> Services:
    return build_services(Settings.from_env(data_dir))


def test_sigkill_while_metering_loses_nothing_and_bills_nothing_twice(data_dir: Path) -> None:
    crash(data_dir, "meter")
    s = services(data_dir)
    try:
        assert s.billing is not None
        assert s.billing.store.usage() == []  # the killed transaction left nothing half-written
        assert s.billing.meter().entries_added > 0
        assert s.billing.meter().entries_added == 0
        seconds = sum(e.gpu_time.milli_gpu_seconds for e in s.billing.store.usage()) // 1000
        assert seconds == sum(8 * h * 3600 for h in TENANTS.values())
        assert len({e.id for e in s.billing.store.usage()}) == len(s.billing.store.usage())
    finally:
        s.engine.dispose()


def test_sigkill_while_finalizing_then_finalizing_again_bills_each_tenant_once(data_dir: Path) -> None:
    crash(data_dir, "finalize")
    s = services(data_dir)
    try:
        assert s.billing is not None
        survivors = s.billing.invoices()
        assert len(survivors) == 1  # the first tenant's invoice committed, the second's did not
        invoices = s.billing.finalize(OCTOBER)
        assert len(invoices) == len(TENANTS) and survivors[0] in invoices
        assert sorted(i.total.minor for i in invoices) == sorted(round(8 * h * 616) for h in TENANTS.values())
        assert s.billing.reconcile(OCTOBER).differences == []
        assert s.billing.finalize(OCTOBER) == invoices and len(s.billing.invoices()) == len(TENANTS)
    finally:
        s.engine.dispose()

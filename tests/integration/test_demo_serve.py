"""`neocloud serve` refuses an un-migrated database; the reconciler loop the server runs keeps going."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from neocloud.cli.main import _register, app
from neocloud.cli.server import ReconcilerLoop


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

"""The one lookup of the public traces' location (`../shared/data/…`, overridable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neocloud.sim import openb_demand
from neocloud.traces import philly
from neocloud.traces.shared_data import shared_data


def test_the_environment_variable_wins_even_when_the_path_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEOCLOUD_TEST_TRACE", str(tmp_path / "elsewhere.csv"))
    assert shared_data("philly/philly.csv", "NEOCLOUD_TEST_TRACE") == tmp_path / "elsewhere.csv"


def test_found_beside_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkout = tmp_path / "project"
    checkout.mkdir()
    (tmp_path / "shared" / "data" / "philly").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "philly" / "philly.csv").write_text("job_id\n")
    monkeypatch.chdir(checkout)
    monkeypatch.delenv("NEOCLOUD_TEST_TRACE", raising=False)
    assert shared_data("philly/philly.csv", "NEOCLOUD_TEST_TRACE") == (
        tmp_path / "shared" / "data" / "philly" / "philly.csv"
    )
    assert shared_data("philly/missing.csv", "NEOCLOUD_TEST_TRACE") is None


def test_both_traces_use_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEOCLOUD_PHILLY", str(tmp_path / "p.csv"))
    monkeypatch.setenv("NEOCLOUD_OPENB", str(tmp_path / "openb"))
    assert philly.default_path() == tmp_path / "p.csv"
    assert openb_demand.default_dir() == tmp_path / "openb"

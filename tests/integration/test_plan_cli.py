"""`neocloud plan` end to end: a real (short) simulation of the campus, JSON, table, charts and report."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from neocloud.cli.main import _register, app

runner = CliRunner()


def invoke(*args: str):
    _register()
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One day of the 1 GW campus, simulated once and saved for the tests that replan it."""
    path = tmp_path_factory.mktemp("plan") / "sim.json"
    out = invoke("plan", "--preset", "campus-1gw", "--days", "1", "--save-sim", str(path), "--json")
    assert out.exit_code == 0, out.output
    return path, json.loads(out.stdout)


def test_campus_plan_json_has_the_headline_and_sourced_assumptions(saved):
    _, data = saved
    for key in ("npv", "irr", "payback_years", "peak_funding", "utilisation", "currency", "assumptions"):
        assert key in data
    assert data["currency"] == "USD"
    assert 0 < data["utilisation"] <= 1
    Decimal(data["npv"]), Decimal(data["peak_funding"])  # money as decimal strings
    sim = json.loads(saved[0].read_text())
    assert data["utilisation"] == pytest.approx(
        sim["utilisation"], abs=1e-6
    )  # from the simulation, not a guess
    assert data["assumptions"]["utilisation"]["kind"] == "simulation"
    assert data["assumptions"]["electricity_price"]["unit"] == "EUR/MWh"
    assert all(a["source"] for a in data["assumptions"].values())
    assert len(data["years"]) == 10 and len(data["sensitivity"]) == 7
    assert data["gpus"] == sim["gpus"] > 300_000


def test_replanning_a_saved_run_gives_the_same_answer(saved):
    path, data = saved
    again = invoke("plan", "--preset", "campus-1gw", "--from-sim", str(path), "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["npv"] == data["npv"]


def test_overrides_change_the_answer_and_are_listed(saved):
    path, data = saved
    out = invoke(
        "plan",
        "--preset",
        "campus-1gw",
        "--from-sim",
        str(path),
        "--json",
        "--set",
        "utilisation=0.9",
        "--set",
        "electricity_price=70",
        "--currency",
        "EUR",
    )
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout)
    assert got["utilisation"] == 0.9 and got["currency"] == "EUR"
    assert got["assumptions"]["utilisation"]["kind"] == "override"
    assert got["assumptions"]["electricity_price"] == {
        "value": "70",
        "unit": "EUR/MWh",
        "kind": "override",
        "source": "given: 70",
    }
    assert got["npv"] != data["npv"]


def test_table_charts_and_report(saved, tmp_path):
    path, _ = saved
    out = invoke("plan", "--preset", "campus-1gw", "--from-sim", str(path), "--out", str(tmp_path / "r"))
    assert out.exit_code == 0, out.output
    assert "peak funding" in out.stdout and "Assumptions" in out.stdout
    for name in ("cash.png", "pnl.png", "tornado.png", "schedule.png"):
        assert (tmp_path / "r" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "r" / "report.html").read_text()
    assert "Assumptions and their sources" in page and "tornado.png" in page


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--set", "pue=0.5"], "pue"),
        (["--set", "nonsense=1"], "nonsense"),
        (["--schedule", "900,900"], "schedule"),
        (["--currency", "GBP"], "currency"),
    ],
)
def test_bad_input_exits_2_naming_the_field(saved, args, needle):
    path, _ = saved
    out = invoke("plan", "--preset", "campus-1gw", "--from-sim", str(path), *args)
    assert out.exit_code == 2
    assert needle in out.output


def test_a_scenario_or_a_preset_is_needed():
    out = invoke("plan")
    assert out.exit_code == 2 and "scenario" in out.output


SMALL_CAMPUS = """\
name: small-campus
days: 2
engine: pooled
fleet: {preset: campus-1gw, params: {power_mw: 30, halls: 2}}
reserved:
  - {tenant: lab, share: 0.5, count: 2, term_days: 1096}
demand:
  source: philly
  on_demand: {share: 0.25, max_wait_hours: 1}
  spot: {share: 0.15, max_wait_hours: 0}
failures: {spare_share: 0.05}
"""


def test_a_scenario_file_is_simulated_and_planned(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_CAMPUS)
    out = invoke("plan", str(path), "--json", "--seed", "3", "--schedule", "10,10,5")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["scenario"] == "small-campus"
    assert 0.25 < data["facility_mw"] <= 30
    assert [q["mw_total"] for q in data["schedule"]] == [10, 20, 25]
    assert data["assumptions"]["schedule"]["kind"] == "override"
    assert "seed 3" in data["simulation"]
    assert data["years"][0]["mw_online"] == 25  # the schedule builds 25 of the fleet's MW in 2026
    built, total = Decimal(data["capex"]["built"]), Decimal(data["capex"]["total"])
    share = 25 / Decimal(data["assumptions"]["site.facility_mw"]["value"])
    assert abs(built - total * share) < Decimal(
        "0.05"
    )  # the schedule's 25 MW of the fleet's, before refreshes


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["plan", "--preset", "no-such-campus"], "no-such-campus"),
        (["plan", "sweep", "campus-1gw", "--grid", "colour=1,2"], "colour"),
        (["plan", "sweep", "campus-1gw", "--grid", "price=1", "--workers", "0"], "workers"),
    ],
)
def test_bad_commands_exit_2_with_a_message(args, needle, saved):
    path, _ = saved
    extra = ["--from-sim", str(path)] if args[1] == "sweep" else []
    out = invoke(*args, *extra)
    assert out.exit_code == 2
    assert needle in out.output


def test_a_broken_saved_run_names_the_problem(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"scenario": "campus-1gw"}')
    out = invoke("plan", "--preset", "campus-1gw", "--from-sim", str(bad))
    assert out.exit_code == 2 and "simulated_days" in out.output
    bad.write_text("not json")
    out = invoke("plan", "--preset", "campus-1gw", "--from-sim", str(bad))
    assert out.exit_code == 2 and "--from-sim" in out.output


def test_an_output_path_that_is_a_file_is_a_clean_error(saved, tmp_path):
    path, _ = saved
    taken = tmp_path / "taken"
    taken.write_text("x")
    out = invoke("plan", "--preset", "campus-1gw", "--from-sim", str(path), "--out", str(taken))
    assert out.exit_code == 2 and "taken" in out.output

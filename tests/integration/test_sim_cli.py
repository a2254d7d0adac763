"""`neocloud sim run` as a user runs it: a table, --json, --plot (PNGs and one HTML report), errors."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from neocloud.cli.main import _register, app

_register()
runner = CliRunner()


def test_sim_run_prints_a_table() -> None:
    out = runner.invoke(app, ["sim", "run", "tiny", "--days", "1"])
    assert out.exit_code == 0, out.output
    assert "utilisation" in out.output and "revenue reserved" in out.output


def test_sim_run_json_and_plots(tmp_path: Path) -> None:
    out = runner.invoke(
        app, ["sim", "run", "tiny", "--days", "1", "--seed", "3", "--json", "--plot", str(tmp_path)]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["seed"] == 3 and doc["simulated_days"] == 1 and 0 < doc["utilisation"] <= 1
    assert set(doc["revenue_by_product"]) == {"reserved", "on-demand", "spot"}
    for name in ("gpus.png", "products.png", "power.png", "queue.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (tmp_path / "report.html").read_text()
    assert "<img" in html and "utilisation" in html


def test_a_scenario_file_error_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"fleet": {"preset": "demo"}, "demand": {"spot": {"share": "lots"}}}))
    out = runner.invoke(app, ["sim", "run", str(path)])
    assert out.exit_code != 0
    assert "demand.spot.share" in out.output


def test_an_unknown_scenario_is_refused() -> None:
    out = runner.invoke(app, ["sim", "run", "no-such-thing.yaml"])
    assert out.exit_code != 0 and "not found" in out.output


def test_the_exact_engine_refuses_a_campus() -> None:
    out = runner.invoke(app, ["sim", "run", "campus-1gw", "--engine", "exact", "--days", "1"])
    assert out.exit_code != 0 and "pooled" in out.output


def test_bad_options_are_refused_with_the_field() -> None:
    out = runner.invoke(app, ["sim", "run", "tiny", "--engine", "warp"])
    assert out.exit_code != 0 and "engine" in out.output
    out = runner.invoke(app, ["sim", "run", "tiny", "--days", "99999"])
    assert out.exit_code != 0 and "days" in out.output

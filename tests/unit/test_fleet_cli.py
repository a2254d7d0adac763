"""`neocloud fleet show|presets|export` through Typer's CliRunner."""

import json
from pathlib import Path

from typer.testing import CliRunner

from neocloud.cli.fleet import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "name",
    "gpus",
    "gpus_by_model",
    "nodes",
    "nvlink_domains",
    "racks",
    "leaf_groups",
    "sus",
    "fabrics",
    "halls",
    "sites",
    "leaf_switches",
    "spine_switches",
    "it_power_mw",
    "facility_power_mw",
}


def test_show_preset_json_is_one_document_with_the_summary():
    result = runner.invoke(app, ["show", "h100-su", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == KEYS
    assert (data["gpus_by_model"], data["nodes"], data["leaf_switches"]) == ({"H100": 256}, 32, 8)


def test_show_passes_preset_params():
    data = json.loads(runner.invoke(app, ["show", "gb200-superpod", "-p", "sus=2", "--json"]).stdout)
    assert (data["racks"], data["gpus"]) == (16, 1152)


def test_show_reads_a_fleet_file():
    result = runner.invoke(app, ["show", str(ROOT / "examples" / "fleet.yaml"), "--json"])
    assert json.loads(result.stdout)["name"] == "example-pod"


def test_show_prints_a_table_without_json():
    result = runner.invoke(app, ["show", "demo"])
    assert result.exit_code == 0 and "facility power (MW)" in result.stdout


def test_show_unknown_preset_fails_with_the_known_ones():
    result = runner.invoke(app, ["show", "nope", "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "h100-su" in result.stderr


def test_show_missing_file_says_so():
    result = runner.invoke(app, ["show", "absent.yaml"])
    assert result.exit_code == 2 and "no fleet file" in result.stderr


def test_a_malformed_param_is_refused():
    result = runner.invoke(app, ["show", "h100-su", "-p", "sus"])
    assert result.exit_code == 2 and "NAME=VALUE" in result.stderr


def test_presets_json_lists_every_preset_with_defaults():
    data = json.loads(runner.invoke(app, ["presets", "--json"]).stdout)
    assert [p["name"] for p in data] == ["h100-su", "gb200-superpod", "campus-1gw", "demo"]
    assert data[0]["params"]["sus"]["default"] == 1


def test_export_writes_a_file_that_show_reads_back(tmp_path: Path):
    out = tmp_path / "pod.yaml"
    assert runner.invoke(app, ["export", "gb200-superpod", "-p", "sus=1", "-o", str(out)]).exit_code == 0
    data = json.loads(runner.invoke(app, ["show", str(out), "--json"]).stdout)
    assert (data["name"], data["gpus"]) == ("gb200-superpod", 576)

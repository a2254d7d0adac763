import json

import typer
from typer.testing import CliRunner

from neocloud.cli import bench
from tests.openb_fixture import PODS, five_columns, write

runner = CliRunner()
app = typer.Typer()
app.add_typer(bench.app, name="bench")


def test_json_output_is_one_document_with_a_result_per_policy(tmp_path):
    pods = write(tmp_path)
    out = runner.invoke(
        app,
        ["bench", "openb", "--pods", str(pods), "--policy", "best-fit,default", "--seeds", "1-3", "--json"],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["workload"] == "tiny"
    assert [r["policy"] for r in doc["results"]] == ["best-fit", "default"]
    for r in doc["results"]:
        assert set(r) == {"policy", "unallocated_pct_at_100", "seconds_per_seed", "cpu_seconds_per_seed"}
        assert set(r["unallocated_pct_at_100"]) == {"mean", "sd"}


def test_nodes_may_be_given_explicitly_and_five_column_pods_are_read(tmp_path):
    pods = write(tmp_path, pods=five_columns(PODS), stem="openb_pod_list_multigpu20")
    nodes = tmp_path / "openb_node_list_gpu_node.csv"
    out = runner.invoke(
        app,
        [
            "bench",
            "openb",
            "--pods",
            str(pods),
            "--nodes",
            str(nodes),
            "--policy",
            "fgd",
            "--seeds",
            "4",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["workload"] == "multigpu20"


def test_the_table_shows_the_published_figure_beside_ours(tmp_path):
    pods = write(tmp_path, stem="openb_pod_list_default")
    out = runner.invoke(app, ["bench", "openb", "--pods", str(pods), "--policy", "fgd", "--seeds", "1"])
    assert out.exit_code == 0, out.output
    assert "4.77 ± 0.11" in out.stdout and "fgd" in out.stdout


def test_plot_writes_a_png(tmp_path):
    pods = write(tmp_path)
    png = tmp_path / "curves.png"
    out = runner.invoke(
        app,
        [
            "bench",
            "openb",
            "--pods",
            str(pods),
            "--policy",
            "random,best-fit",
            "--seeds",
            "1",
            "--plot",
            str(png),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bad_pod_file_fails_with_a_clear_message(tmp_path):
    pods = write(tmp_path, pods=PODS.replace("pod-03,32000", "pod-03,many"))
    out = runner.invoke(app, ["bench", "openb", "--pods", str(pods), "--seeds", "1"])
    assert out.exit_code == 1
    assert "line 5" in out.output and "cpu_milli" in out.output


def test_an_unknown_policy_fails_naming_the_known_ones(tmp_path):
    out = runner.invoke(app, ["bench", "openb", "--pods", str(write(tmp_path)), "--policy", "nope"])
    assert out.exit_code == 1 and "unknown placement policy" in out.output


def test_bound_and_departures_add_their_keys_and_keep_the_others(tmp_path):
    pods = write(tmp_path)
    out = runner.invoke(
        app,
        [
            "bench",
            "openb",
            "--pods",
            str(pods),
            "--policy",
            "best-fit,fgd",
            "--seeds",
            "1-2",
            "--bound",
            "--departures",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    for r in doc["results"]:
        assert {"policy", "unallocated_pct_at_100", "seconds_per_seed"} <= set(r)
        bound = r["bound_unallocated_pct_at_100"]
        assert 0 <= bound["mean"] <= r["unallocated_pct_at_100"]["mean"] + 1e-9
        assert set(r["departures"]) >= {"time_avg_allocated_pct", "unallocated_pct_when_over_capacity"}


def test_a_generated_variant_is_named_and_run(tmp_path):
    pods = write(tmp_path)
    out = runner.invoke(
        app,
        [
            "bench",
            "openb",
            "--pods",
            str(pods),
            "--variant",
            "multigpu:30",
            "--policy",
            "best-fit",
            "--seeds",
            "1",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["workload"] == "multigpu30 (generated, seed 1)"


def test_a_bad_variant_is_refused_with_a_message(tmp_path):
    pods = write(tmp_path)
    out = runner.invoke(
        app, ["bench", "openb", "--pods", str(pods), "--variant", "nonsense:5", "--seeds", "1"]
    )
    assert out.exit_code != 0
    assert "variant" in out.output


def test_the_table_shows_the_bound_columns(tmp_path):
    pods = write(tmp_path)
    out = runner.invoke(
        app, ["bench", "openb", "--pods", str(pods), "--policy", "fgd", "--seeds", "1", "--bound"]
    )
    assert out.exit_code == 0, out.output
    assert "bound" in out.stdout

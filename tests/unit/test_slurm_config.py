"""Fleet → Slurm configuration, without Slurm: hostlists, node lines, the three topology forms, and the
split of a fleet larger than one controller into one cluster per hall. (That slurmctld accepts the 22.05
output is proven by scripts/slurm-up.sh, which starts the test cluster from it.)"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from neocloud.bootstrap import slurm_config
from neocloud.control.adapters.slurm.config import MAX_NODES_PER_CLUSTER, TopologyForm, generate
from neocloud.control.adapters.slurm.hostlist import compress, expand
from neocloud.fleet import presets
from neocloud.fleet.file import load_fleet

TEST_FLEET = Path(__file__).parents[1] / "slurm" / "fleet.yaml"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["gpu-", "r1-n", "h1-f1-su01-r2-t", "x"]), st.integers(0, 120), st.booleans()
        ),
        unique=True,
        max_size=60,
    )
)
def test_a_hostlist_expands_back_to_its_names(items):
    names = list(dict.fromkeys(f"{p}{n:02d}" if pad else f"{p}{n}" for p, n, pad in items))
    assert sorted(expand(compress(names))) == sorted(names)


def test_runs_compress_into_ranges():
    assert compress(["t01", "t02", "t03", "t09", "t10", "t11"]) == "t[01-03,09-11]"
    assert compress(["n1", "n2", "n3", "a"]) == "n[1-3],a"


def test_the_test_fleet_gives_node_lines_with_gres_by_model_and_its_topology_tree():
    text = slurm_config(load_fleet(TEST_FLEET))
    assert "NodeName=r1-n[1-2],r2-n[1-2] CPUs=16 RealMemory=16384 Gres=gpu:h100:8 Features=h100" in text
    assert "PartitionName=h100 Nodes=h100 Default=YES" in text
    # HGX: each node its own NVLink domain, rail-optimised: the scalable unit is the lowest switch
    assert "SwitchName=su1 Nodes=r1-n[1-2]" in text and "SwitchName=hall-a Switches=su[1-2]" in text
    assert text.index("### slurm.conf") < text.index("### topology.conf")


def test_nvl72_racks_are_the_lowest_switches_and_the_blocks():
    fleet = presets.build("gb200-superpod", sus=1)
    tree = generate(fleet, TopologyForm.TREE)[0].topology
    rack = fleet.nodes[0].nvlink
    assert re.search(rf"^SwitchName={rack} Nodes=\S+$", tree, re.M)
    assert re.search(rf"^SwitchName={fleet.nodes[0].leaf} Switches=\S+$", tree, re.M)
    block = generate(fleet, TopologyForm.BLOCK)[0].topology
    assert "BlockSizes=18" in block and f"BlockName={rack} Nodes=" in block
    yaml_text = generate(fleet, TopologyForm.YAML)[0].topology
    assert "cluster_default: true" in yaml_text and "block_sizes: [18]" in yaml_text


def test_a_campus_larger_than_one_controller_becomes_one_cluster_per_hall():
    fleet = presets.build("campus-1gw")
    assert len(fleet.nodes) > MAX_NODES_PER_CLUSTER
    clusters = generate(fleet)
    halls = {n.hall for n in fleet.nodes}
    assert len(clusters) == len(halls)
    seen: list[str] = []
    for c in clusters:
        assert c.nodes <= MAX_NODES_PER_CLUSTER
        assert f"ClusterName={c.name}\n" in c.slurm_conf
        for line in c.slurm_conf.splitlines():
            if line.startswith("NodeName="):
                seen += expand(line.split()[0].removeprefix("NodeName="))
    assert sorted(seen) == sorted(n.id for n in fleet.nodes)  # every node exactly once


def test_the_command_prints_the_config_and_refuses_ambiguous_options():
    from typer.testing import CliRunner

    from neocloud.cli.main import _register, app

    _register()
    ok = CliRunner().invoke(app, ["slurm", "config", "--fleet", str(TEST_FLEET)])
    assert ok.exit_code == 0 and "NodeName=r1-n[1-2],r2-n[1-2]" in ok.stdout and "SwitchName=su1" in ok.stdout
    both = CliRunner().invoke(app, ["slurm", "config", "--fleet", str(TEST_FLEET), "--preset", "h100-su"])
    assert both.exit_code == 1
    yaml_out = CliRunner().invoke(app, ["slurm", "config", "--preset", "h100-su", "--topology-yaml"])
    assert yaml_out.exit_code == 0 and "- topology: tree" in yaml_out.stdout

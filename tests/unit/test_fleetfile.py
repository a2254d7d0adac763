"""The fleet description file: reading, count shorthand, errors naming field and line, round trip."""

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.fleet import presets
from neocloud.fleet.file import dump_fleet, load_fleet, parse_fleet, save_fleet
from neocloud.fleet.summary import fleet_summary
from neocloud.kernel.errors import InvalidInput
from tests.builders import fleet, node

ROOT = Path(__file__).resolve().parents[2]


def doc(racks: str, hall: str = "") -> str:
    """A one-hall, one-fabric, one-SU file around the given racks (YAML at rack-list indentation)."""
    head = textwrap.dedent("""\
        name: t
        halls:
          - name: h1
            pue: 1.2
            fabrics:
              - name: f1
                sus:
                  - name: su1
                    racks:
        """)
    head = head.replace("pue: 1.2\n", f"pue: 1.2\n{hall}")
    return head + textwrap.indent(textwrap.dedent(racks), " " * 14)


H100_RACK = """\
    - name: r{n}
      count: 2
      nodes:
        - model: H100
          count: 4
          cpu: 112
          memory_gib: 2048
"""


def error(text: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as err:
        parse_fleet(text, "f.yaml")
    return err.value


def test_the_shipped_example_loads():
    s = fleet_summary(load_fleet(ROOT / "examples" / "fleet.yaml"))
    assert s.gpus_by_model == {"GB200": 144, "H100": 256}
    assert (s.racks, s.nvlink_domains, s.fabrics, s.leaf_switches) == (10, 34, 2, 8)


def test_count_shorthand_names_racks_and_nodes():
    f = parse_fleet(doc(H100_RACK))
    assert [n.id for n in f.nodes] == [f"r{r}-n{i}" for r in (1, 2) for i in range(1, 5)]
    assert [r.name for r in f.racks] == ["r1", "r2"]


def test_a_rack_without_power_draws_its_nodes_maximum():
    f = parse_fleet(doc(H100_RACK))
    assert f.racks[0].power_kw == pytest.approx(4 * 10.2)


def test_gb200_trays_share_their_rack_nvlink_domain_by_default():
    f = parse_fleet(
        doc("""\
        - name: nvl
          nodes:
            - {model: GB200, count: 18, cpu: 144, memory_gib: 960}
        """)
    )
    assert {n.nvlink for n in f.nodes} == {"nvl"} and f.gpu_count() == 72


def test_h100_nodes_are_their_own_nvlink_domain_by_default():
    f = parse_fleet(doc(H100_RACK))
    assert f.topology.count(0) == 8


def test_an_explicit_nvlink_domain_groups_nodes():
    f = parse_fleet(
        doc("""\
        - name: r
          nodes:
            - {model: H100, count: 2, cpu: 1, memory_gib: 1, nvlink: pair}
        """)
    )
    assert {n.nvlink for n in f.nodes} == {"pair"}


def test_a_preset_file_builds_the_preset_with_its_params():
    f = parse_fleet("preset: h100-su\nparams:\n  sus: 2\nname: mine\n")
    assert (len(f.nodes), f.name) == (64, "mine")


def test_a_wrong_type_names_the_field_and_its_line():
    bad = doc(H100_RACK.replace("count: 2", "count: 2\n      power_kw: lots"))
    e = error(bad)
    assert e.details == {
        "file": "f.yaml",
        "line": 12,
        "field": "halls[0].fabrics[0].sus[0].racks[0].power_kw",
    }
    assert e.message.startswith("f.yaml:12: halls[0].fabrics[0].sus[0].racks[0].power_kw: must be a number")


def test_a_missing_key_names_the_mapping_that_lacks_it():
    e = error(doc(H100_RACK.replace("          cpu: 112\n", "")))
    assert e.details["field"] == "halls[0].fabrics[0].sus[0].racks[0].nodes[0]"
    assert e.details["line"] == 13 and "'cpu'" in e.message


def test_an_unknown_key_is_named_at_its_line():
    e = error(doc(H100_RACK.replace("      count: 2\n", "      count: 2\n      colour: red\n")))
    assert (e.details["line"], e.details["field"]) == (12, "halls[0].fabrics[0].sus[0].racks[0].colour")


def test_an_unknown_gpu_model_lists_the_known_ones():
    e = error(doc(H100_RACK.replace("model: H100", "model: H900")))
    assert e.details["field"].endswith("nodes[0].model") and "H100" in e.message


def test_a_rack_declared_twice_points_at_the_first():
    e = error(doc(H100_RACK + H100_RACK))
    assert e.details["line"] == 17 and "line 10" in e.message


def test_count_without_a_pattern_is_refused():
    e = error(doc(H100_RACK.replace("name: r{n}", "name: r")))
    assert e.details["field"].endswith("racks[0].name") and "{n}" in e.message


def test_a_hall_over_its_power_budget_is_refused():
    e = error(doc(H100_RACK, hall="    power_budget_mw: 0.05\n"))
    assert e.details == {"file": "f.yaml", "line": 5, "field": "halls[0].power_budget_mw"}


def test_invalid_yaml_names_the_line():
    e = error("name: x\nhalls: [\n  - a: b\n")
    assert e.details["line"] == 3 and "not valid YAML" in e.message


def test_a_bad_preset_parameter_names_its_line():
    e = error("preset: h100-su\nparams:\n  sus: 0\n")
    assert (e.details["line"], e.details["field"]) == (3, "params.sus")


def test_an_unknown_preset_lists_the_known_ones():
    e = error("preset: tiny\n")
    assert e.details["line"] == 1 and "campus-1gw" in e.message


def test_a_file_with_one_bad_hall_loads_nothing(tmp_path: Path):
    text = doc(H100_RACK) + "  - name: h2\n    fabrics: []\n"
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as err:
        load_fleet(path)
    assert err.value.details["field"] == "halls[1].fabrics"


def test_a_missing_file_is_an_invalid_input(tmp_path: Path):
    with pytest.raises(InvalidInput, match="cannot read"):
        load_fleet(tmp_path / "absent.yaml")


def test_a_preset_round_trips_through_the_file(tmp_path: Path):
    original = presets.build("demo")
    save_fleet(original, tmp_path / "demo.yaml")
    back = load_fleet(tmp_path / "demo.yaml")
    assert back.nodes == original.nodes
    assert (back.racks, back.halls, back.fabrics) == (original.racks, original.halls, original.fabrics)


def test_the_writer_uses_count_shorthand():
    text = dump_fleet(presets.build("gb200-superpod", sus=1))
    assert text.count("count: 18") == 8 and "t{n:02d}" in text


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["r1", "r2", "r3"]),
            st.sampled_from(["s1", "s2"]),
            st.sampled_from(["H100", "B200"]),
            st.integers(1, 8),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_fleet_round_trips_its_nodes(specs):
    nodes = [
        node(f"n{i}", rack=f"{su}-{rack}", su=su, model=model, gpus=gpus, cpu=8000 * gpus)
        for i, (rack, su, model, gpus) in enumerate(specs)
    ]
    original = fleet(*nodes)
    assert parse_fleet(dump_fleet(original)).nodes == original.nodes


def test_a_key_given_twice_is_refused():
    e = error(doc(H100_RACK.replace("      count: 2\n", "      count: 2\n      count: 3\n")))
    assert (e.details["line"], e.details["field"]) == (12, "halls[0].fabrics[0].sus[0].racks[0].count")
    assert "twice" in e.message


def test_a_node_may_carry_an_explicit_id():
    f = parse_fleet(
        doc("""\
        - name: r
          nodes:
            - {model: H100, cpu: 1, memory_gib: 1, id: gpu-host-17}
        """)
    )
    assert [n.id for n in f.nodes] == ["gpu-host-17"]


def test_an_explicit_id_with_a_count_is_refused():
    e = error(
        doc("""\
        - name: r
          nodes:
            - {model: H100, cpu: 1, memory_gib: 1, id: x, count: 2}
        """)
    )
    assert e.details["field"].endswith("nodes[0].id")

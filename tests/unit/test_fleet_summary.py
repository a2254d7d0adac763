"""fleet_summary: GPUs by model, topology counts and power of a fleet."""

import pytest

from neocloud.fleet.fleet import Fabric, Fleet, Hall, Rack
from neocloud.fleet.summary import fleet_summary
from tests.builders import fleet, node


def test_summary_counts_gpus_by_model_and_topology_domains():
    s = fleet_summary(
        fleet(
            node("a", rack="r1", su="s1"),
            node("b", rack="r1", su="s1"),
            node("c", model="GB200", gpus=4, rack="r2", nvlink="r2", su="s2"),
            node("d", model="GB200", gpus=4, rack="r2", nvlink="r2", su="s2"),
        )
    )
    assert s.gpus_by_model == {"GB200": 8, "H100": 16} and s.gpus == 24
    assert (s.nodes, s.nvlink_domains, s.racks, s.sus, s.halls) == (4, 3, 2, 2, 1)


def test_summary_power_uses_rack_budgets_and_hall_pue():
    f = Fleet.build(
        "p",
        [node("a", rack="r1", hall="h1"), node("b", rack="r2", hall="h2")],
        racks=[Rack("r1", "h1", 100.0), Rack("r2", "h2", 300.0)],
        halls=[Hall("h1", 1.5), Hall("h2", 1.1)],
    )
    s = fleet_summary(f)
    assert s.it_power_mw == pytest.approx(0.4)
    assert s.facility_power_mw == pytest.approx(0.15 + 0.33)


def test_summary_adds_up_declared_switches():
    f = Fleet.build(
        "s", [node("a")], fabrics=[Fabric("fabric-0", "hall-0", 8, 4), Fabric("x", "hall-0", 2, 1)]
    )
    s = fleet_summary(f)
    assert (s.leaf_switches, s.spine_switches) == (10, 5)


def test_summary_as_dict_is_plain_data():
    d = fleet_summary(fleet(node("a"))).as_dict()
    assert d["gpus_by_model"] == {"H100": 8} and d["facility_power_mw"] == pytest.approx(0.0102)

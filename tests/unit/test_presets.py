"""Fleet presets: the reference designs have the right counts, and bad names or parameters are refused."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.fleet import presets
from neocloud.fleet.summary import fleet_summary
from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput


def test_h100_su_is_32_nodes_256_gpus_and_8_leaves():
    s = fleet_summary(presets.build("h100-su"))
    assert (s.nodes, s.gpus, s.leaf_switches, s.spine_switches) == (32, 256, 8, 4)
    assert s.gpus_by_model == {"H100": 256} and s.sus == 1


def test_h100_su_scales_with_its_sus_parameter():
    s = fleet_summary(presets.build("h100-su", sus=4))
    assert (s.nodes, s.gpus, s.sus, s.leaf_switches) == (128, 1024, 4, 32)


def test_one_gb200_su_is_8_nvl72_racks_of_18_trays_of_4_gpus():
    s = fleet_summary(presets.build("gb200-superpod", sus=1))
    assert (s.racks, s.nvlink_domains, s.nodes, s.gpus) == (8, 8, 8 * 18, 576)


def test_gb200_superpod_splits_into_fabrics_of_16_sus():
    s = fleet_summary(presets.build("gb200-superpod", sus=20))
    assert (s.sus, s.fabrics, s.racks) == (20, 2, 160)


@pytest.fixture(scope="module")
def campus():
    return fleet_summary(presets.build("campus-1gw"))


def test_campus_has_about_400k_gpus_and_100k_trays(campus):
    assert abs(campus.gpus - ref.CAMPUS_1GW_GB200_GPUS) / ref.CAMPUS_1GW_GB200_GPUS < 0.03
    assert 98_000 <= campus.nodes <= 102_000


def test_campus_has_about_5600_racks(campus):
    assert abs(campus.racks - ref.CAMPUS_1GW_GB200_RACKS) / ref.CAMPUS_1GW_GB200_RACKS < 0.03


def test_campus_facility_power_stays_within_1_gw(campus):
    assert 0.99 * ref.CAMPUS_1GW_FACILITY_MW < campus.facility_power_mw <= ref.CAMPUS_1GW_FACILITY_MW
    assert campus.facility_power_mw == pytest.approx(campus.it_power_mw * 1.2)


def test_a_worse_pue_leaves_fewer_gpus_in_the_campus():
    assert presets.campus_sus(1000, 1.5) < presets.campus_sus(1000, 1.2)


def test_demo_has_a_gb200_superpod_and_an_h100_su():
    s = fleet_summary(presets.build("demo"))
    assert s.gpus_by_model == {"GB200": 2 * 72, "H100": 256}
    assert s.fabrics == 2 and s.halls == 1


def test_preset_nodes_are_grouped_by_rack_in_generation_order():
    f = presets.build("gb200-superpod", sus=1)
    assert [n.id for n in f.nodes[:2]] == ["h1-f1-su01-r1-t01", "h1-f1-su01-r1-t02"]
    assert f.topology.names[1][:2] == ("h1-f1-su01-r1", "h1-f1-su01-r2")


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(InvalidInput) as err:
        presets.build("nope")
    assert err.value.details["known"] == list(presets.PRESETS)
    assert "h100-su" in err.value.message


def test_unknown_parameter_is_named():
    with pytest.raises(InvalidInput, match="'racks'"):
        presets.build("h100-su", racks=3)


@pytest.mark.parametrize("value", [0, 2.5, "two", True])
def test_bad_parameter_values_are_refused(value):
    with pytest.raises(InvalidInput, match="'sus'"):
        presets.build("h100-su", sus=value)


def test_every_preset_builds_with_its_defaults():
    for name in presets.PRESETS:
        if name != "campus-1gw":
            assert presets.build(name).gpu_count() > 0


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 20))
def test_every_gb200_su_adds_8_racks_and_576_gpus(sus):
    s = fleet_summary(presets.build("gb200-superpod", sus=sus))
    assert (s.sus, s.racks, s.gpus) == (sus, 8 * sus, 576 * sus)


@settings(max_examples=25, deadline=None)
@given(st.floats(1.05, 1.8), st.floats(10, 60), st.integers(1, 4))
def test_a_campus_never_draws_more_than_its_facility_power(pue, power_mw, halls):
    s = fleet_summary(presets.build("campus-1gw", pue=pue, power_mw=power_mw, halls=halls))
    assert s.facility_power_mw <= power_mw + 1e-9
    assert s.facility_power_mw > power_mw - pue * 1.2  # less than one more SU would fit

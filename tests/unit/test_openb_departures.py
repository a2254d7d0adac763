"""openb replayed with departures: pods leave at their own deletion_time."""

import pytest

from neocloud.bench.openb_departures import replay
from neocloud.kernel.errors import InvalidInput
from neocloud.placement.workload import Workload
from neocloud.traces import openb
from tests.openb_fixture import PODS, five_columns, write


def _load(tmp_path, pods=PODS):
    path = write(tmp_path, pods=pods)
    f, p = openb.read_fleet(openb.nodes_beside(path)), openb.read_pods(path)
    return f, p, Workload.from_requests(x.request for x in p)


def test_the_replay_reports_time_averaged_allocation_within_capacity(tmp_path):
    f, p, wl = _load(tmp_path)
    run = replay("best-fit", f, p, wl, seed=1, load=1.5)
    assert 0 < run.time_avg_allocated_pct <= 100
    assert 0 <= run.over_capacity_pct_of_time <= 100
    if run.unallocated_pct_when_over is not None:
        assert 0 <= run.unallocated_pct_when_over <= 100


def test_more_load_means_more_of_the_window_over_capacity(tmp_path):
    f, p, wl = _load(tmp_path)
    light = replay("best-fit", f, p, wl, seed=1, load=0.2)
    heavy = replay("best-fit", f, p, wl, seed=1, load=3.0)
    assert light.over_capacity_pct_of_time <= heavy.over_capacity_pct_of_time
    assert light.rejected_pct_of_request <= heavy.rejected_pct_of_request


def test_the_replay_is_a_function_of_the_seed(tmp_path):
    f, p, wl = _load(tmp_path)
    a, b = replay("fgd", f, p, wl, seed=3), replay("fgd", f, p, wl, seed=3)
    assert a.time_avg_allocated_pct == b.time_avg_allocated_pct


def test_a_list_without_times_cannot_be_replayed(tmp_path):
    f, p, wl = _load(tmp_path, pods=five_columns(PODS))
    with pytest.raises(InvalidInput):
        replay("best-fit", f, p, wl, seed=1)


@pytest.mark.parametrize("bad", ["inf", "nan", "1e400", "ten"])
def test_a_non_finite_time_is_refused_naming_the_file_and_line(tmp_path, bad):
    pods = PODS.replace(
        "pod-01,6000,12288,1,460,,LS,Running,1,10,1", f"pod-01,6000,12288,1,460,,LS,Running,1,{bad},1"
    )
    with pytest.raises(InvalidInput, match="finite numbers") as err:
        openb.read_pods(write(tmp_path, pods=pods))
    assert "openb_pod_list_tiny.csv" in str(err.value)

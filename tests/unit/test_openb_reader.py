import pytest

from neocloud.kernel.errors import InvalidInput
from neocloud.traces import openb
from tests.openb_fixture import NODES, PODS, five_columns, write


def test_fleet_has_the_gpu_nodes_only(tmp_path):
    fleet = openb.read_fleet(write(tmp_path).parent / openb.NODE_FILE)
    assert len(fleet.nodes) == 12 and fleet.gpu_count() == 56


def test_each_node_is_its_own_nvlink_domain_and_rack(tmp_path):
    fleet = openb.read_fleet(write(tmp_path).parent / openb.NODE_FILE)
    n = fleet.nodes[0]
    assert (n.nvlink, n.rack) == (n.id, n.id)


def test_node_capacities_are_read(tmp_path):
    fleet = openb.read_fleet(write(tmp_path).parent / openb.NODE_FILE)
    n = fleet.nodes[fleet.index_of["node-09"]]
    assert (n.model, n.gpus, n.cpu_milli, n.memory_mib) == ("A10", 1, 128_000, 1_048_576)


def test_pods_become_requests(tmp_path):
    pods = openb.read_pods(write(tmp_path))
    share = pods[1].request
    assert (share.gpus, share.gpu_milli, share.cpu_milli, share.memory_mib) == (1, 460, 6000, 12288)
    assert pods[1].gpu_milli == 460 and pods[3].gpu_milli == 8000


def test_cpu_only_pods_ask_for_no_gpu(tmp_path):
    pod = openb.read_pods(write(tmp_path))[2]
    assert pod.request.gpus == 0 and pod.gpu_milli == 0


def test_gpu_spec_restricts_models(tmp_path):
    pods = openb.read_pods(write(tmp_path))
    assert pods[4].request.models == frozenset({"V100M16", "V100M32"})
    assert pods[0].request.models is None


def test_a_five_column_pod_list_is_read(tmp_path):
    pods = openb.read_pods(write(tmp_path, pods=five_columns(PODS)))
    assert len(pods) == 12 and all(p.request.models is None for p in pods)


def test_a_bad_number_names_file_line_and_field(tmp_path):
    bad = PODS.replace("pod-07,3000,", "pod-07,lots,")
    path = write(tmp_path, pods=bad)
    with pytest.raises(InvalidInput) as err:
        openb.read_pods(path)
    assert err.value.details == {"file": str(path), "line": 9, "field": "cpu_milli"}
    assert "line 9" in err.value.message and "cpu_milli" in err.value.message


def test_a_missing_column_is_named(tmp_path):
    path = write(tmp_path, pods=PODS.replace("num_gpu", "gpus"))
    with pytest.raises(InvalidInput, match="num_gpu"):
        openb.read_pods(path)


def test_a_short_row_is_refused(tmp_path):
    path = write(
        tmp_path, pods=PODS.replace("pod-05,2000,4096,1,250,T4,LS,Running,5,10,5", "pod-05,2000,4096")
    )
    with pytest.raises(InvalidInput, match="line 7"):
        openb.read_pods(path)


def test_a_fractional_multi_gpu_pod_is_refused(tmp_path):
    path = write(tmp_path, pods=PODS.replace("pod-04,8000,16384,2,1000", "pod-04,8000,16384,2,500"))
    with pytest.raises(InvalidInput, match="gpu_milli"):
        openb.read_pods(path)


def test_an_unknown_gpu_model_is_named(tmp_path):
    path = write(tmp_path, nodes=NODES.replace("8,G2\nnode-01", "8,Z9\nnode-01"))
    with pytest.raises(InvalidInput) as err:
        openb.read_fleet(path.parent / openb.NODE_FILE)
    assert err.value.details["field"] == "model" and err.value.details["line"] == 2


def test_an_unknown_gpu_spec_is_named(tmp_path):
    path = write(tmp_path, pods=PODS.replace(",T4,LS", ",T5,LS"))
    with pytest.raises(InvalidInput, match="gpu_spec"):
        openb.read_pods(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InvalidInput, match="cannot read"):
        openb.read_pods(tmp_path / "nope.csv")


def test_an_empty_file_is_refused(tmp_path):
    path = write(tmp_path, pods="")
    with pytest.raises(InvalidInput, match="empty"):
        openb.read_pods(path)


def test_workload_name_drops_the_prefix():
    assert openb.workload_name("/x/openb_pod_list_gpushare40.csv") == "gpushare40"

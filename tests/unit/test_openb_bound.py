"""The openb limit: an upper bound on the GPU any placement could allocate (HiGHS)."""

from neocloud.bench.openb_bound import placement_bound
from neocloud.placement.request import Request
from tests.builders import fleet, node


def test_pods_that_each_need_more_than_half_a_nodes_cpu_take_a_node_each():
    f = fleet(node("a", model="T4", gpus=2, cpu=10_000, mem=100_000))
    b = placement_bound(f, [Request(gpus=1, cpu_milli=6_000)] * 2)
    assert b.allocatable_milli == 1_000 and b.optimal
    assert b.unallocated_pct == 50.0


def test_sharing_pods_over_half_a_gpu_never_share_one():
    f = fleet(node("a", model="T4", gpus=2, cpu=10_000, mem=100_000))
    b = placement_bound(f, [Request(gpus=1, gpu_milli=600)] * 3)
    assert b.allocatable_milli == 1_200


def test_a_pod_goes_only_where_its_gpu_model_is():
    f = fleet(node("a", model="G2", gpus=8, cpu=96_000, mem=400_000))
    assert placement_bound(f, [Request(gpus=1, models=frozenset({"T4"}))]).allocatable_milli == 0


def test_the_bound_never_exceeds_capacity_nor_the_request():
    f = fleet(node("a", model="T4", gpus=2, cpu=10_000, mem=100_000))
    assert placement_bound(f, [Request(gpus=1, gpu_milli=300)]).allocatable_milli == 300
    assert placement_bound(f, [Request(gpus=2)] * 3).allocatable_milli == 2_000
    assert placement_bound(f, []).allocatable_milli == 0


def test_the_integer_programme_is_at_least_as_tight_as_its_relaxation():
    f = fleet(
        node("a", model="T4", gpus=2, cpu=10_000, mem=100_000),
        node("b", model="T4", gpus=2, cpu=10_000, mem=100_000),
    )
    reqs = [Request(gpus=1, gpu_milli=400, cpu_milli=3_000)] * 7
    lp, ip = placement_bound(f, reqs), placement_bound(f, reqs, integral=True)
    assert ip.allocatable_milli <= lp.allocatable_milli + 1e-6
    assert ip.allocatable_milli == 2_400  # CPU: 6 pods of 3 CPUs fit in 2 x 10 CPUs

import numpy as np

from neocloud.fleet.capacity import NodeShare
from neocloud.placement.request import Request
from neocloud.placement.scorers import (
    BestFit,
    DotProduct,
    FirstFit,
    GpuClustering,
    GpuPacking,
    NodeOrder,
    PreserveWholeNodes,
    SpareCpu,
    StrandedCpuFit,
)
from neocloud.placement.workload import Shape, Workload
from tests.builders import capacity, node

ALL = np.array([0, 1], dtype=np.int64)


def best(scores: np.ndarray) -> int:
    return int(np.argmax(scores))


def test_first_fit_prefers_the_lowest_index():
    cap = capacity(node("a"), node("b"))
    assert best(FirstFit()(Request(), cap, ALL)) == 0


def test_best_fit_prefers_the_node_left_fullest():
    cap = capacity(node("a", gpus=8), node("b", gpus=8))
    cap.take((NodeShare(1, (0, 1, 2), 1000, 0, 0),))
    assert best(BestFit()(Request(gpus=1), cap, ALL)) == 1


def test_best_fit_follows_the_artifact_formula():
    cap = capacity(node("a", gpus=8, cpu=128_000))
    score = BestFit()(Request(gpus=2, cpu_milli=64_000), cap, np.array([0]))
    assert score.tolist() == [np.floor(100 * (1 - 0.5 * 0.5 - 0.5 * 0.75))]


def test_dot_product_prefers_the_node_with_less_free():
    cap = capacity(node("a", gpus=8), node("b", gpus=8))
    cap.take((NodeShare(0, (0, 1, 2, 3), 1000, 32_000, 0),))
    assert best(DotProduct()(Request(gpus=1, cpu_milli=8_000), cap, ALL)) == 0


def test_gpu_packing_prefers_sharing_a_used_gpu():
    cap = capacity(node("a", gpus=8), node("b", gpus=8))
    cap.take((NodeShare(1, (3,), 500, 0, 0),))
    assert best(GpuPacking()(Request(gpu_milli=300), cap, ALL)) == 1


def test_gpu_packing_prefers_a_partly_used_node_for_whole_gpus():
    cap = capacity(node("a", gpus=8), node("b", gpus=8))
    cap.take((NodeShare(0, (0,), 1000, 0, 0),))
    assert best(GpuPacking()(Request(gpus=2), cap, ALL)) == 0


def test_gpu_packing_has_no_preference_for_cpu_only_requests():
    cap = capacity(node("a"), node("b"))
    cap.take((NodeShare(0, (0,), 1000, 0, 0),))
    scores = GpuPacking()(Request(gpus=0, cpu_milli=1000), cap, ALL)
    assert scores[0] == scores[1]


def test_gpu_clustering_prefers_a_node_holding_the_same_kind():
    cap = capacity(node("a"), node("b"))
    scorer = GpuClustering()
    scorer(Request(gpus=2), cap, ALL)
    cap.take((NodeShare(0, (0,), 400, 0, 0),))
    scorer(Request(gpus=2), cap, ALL)
    cap.take((NodeShare(1, (0, 1), 1000, 0, 0),))
    assert best(scorer(Request(gpus=2), cap, ALL)) == 1
    assert best(scorer(Request(gpu_milli=300), cap, ALL)) == 0


def test_gpu_clustering_forgets_a_kind_when_its_gpus_come_back():
    cap = capacity(node("a"), node("b"))
    scorer = GpuClustering()
    scorer(Request(gpus=2), cap, ALL)
    share = (NodeShare(0, (0, 1), 1000, 0, 0),)
    cap.take(share)
    scorer(Request(gpus=2), cap, ALL)
    cap.give_back(share)
    scores = scorer(Request(gpus=2), cap, ALL)
    assert scores[0] == scores[1]


def test_preserve_whole_nodes_penalises_an_untouched_node_when_a_used_one_fits():
    cap = capacity(node("a"), node("b"))
    cap.take((NodeShare(1, (0,), 1000, 0, 0),))
    assert PreserveWholeNodes()(Request(gpus=1), cap, ALL).tolist() == [-1.0, 0.0]


def test_preserve_whole_nodes_is_neutral_when_every_candidate_is_untouched():
    cap = capacity(node("a"), node("b"))
    assert PreserveWholeNodes()(Request(gpus=1), cap, ALL).tolist() == [0.0, 0.0]


def test_preserve_whole_nodes_lets_a_whole_node_request_take_a_whole_node():
    cap = capacity(node("a"), node("b"))
    cap.take((NodeShare(1, (0,), 1000, 0, 0),))
    assert PreserveWholeNodes()(Request(gpus=8), cap, ALL).tolist() == [0.0, 0.0]


def test_preserve_whole_nodes_can_leave_sharing_requests_alone():
    cap = capacity(node("a"), node("b"))
    cap.take((NodeShare(1, (0,), 1000, 0, 0),))
    assert PreserveWholeNodes(whole_gpu_only=True)(Request(gpu_milli=100), cap, ALL).tolist() == [0.0, 0.0]


def test_node_order_prefers_earlier_nodes_on_a_unit_scale():
    cap = capacity(node("a"), node("b"))
    assert NodeOrder()(Request(), cap, ALL).tolist() == [0.0, -0.5]


def test_spare_cpu_sends_cpu_work_where_free_gpus_need_no_cpu():
    cap = capacity(node("a", cpu=64_000), node("b", cpu=64_000))
    cap.take((NodeShare(0, tuple(range(8)), 1000, 16_000, 0),))
    wl = Workload((Shape(1, 1000, 8_000),), (1.0,))
    assert best(SpareCpu(wl)(Request(gpus=0, cpu_milli=4_000), cap, ALL)) == 0


def test_spare_cpu_counts_the_cpu_free_gpus_will_need():
    cap = capacity(node("a", cpu=64_000))
    wl = Workload((Shape(1, 1000, 4_000),), (1.0,))
    assert SpareCpu(wl)(Request(gpus=0, cpu_milli=16_000), cap, np.array([0])).tolist() == [
        (64_000 - 16_000 - 32_000) / 64_000
    ]


def test_spare_cpu_has_no_preference_for_gpu_requests():
    cap = capacity(node("a"), node("b", cpu=8_000))
    assert SpareCpu()(Request(gpus=1), cap, ALL).tolist() == [0.0, 0.0]


def test_stranded_cpu_fit_packs_cpu_work_into_the_tightest_spare_cpu():
    cap = capacity(node("a", gpus=0, cpu=64_000), node("b", gpus=0, cpu=16_000))
    assert best(StrandedCpuFit()(Request(gpus=0, cpu_milli=8_000), cap, ALL)) == 1


def test_stranded_cpu_fit_prefers_spare_cpu_to_cpu_free_gpus_will_need():
    cap = capacity(node("a", cpu=64_000), node("b", cpu=64_000))
    cap.take((NodeShare(0, tuple(range(8)), 1000, 16_000, 0),))
    wl = Workload((Shape(1, 1000, 8_000),), (1.0,))
    assert best(StrandedCpuFit(wl)(Request(gpus=0, cpu_milli=4_000), cap, ALL)) == 0


def test_stranded_cpu_fit_without_spare_cpu_takes_the_node_whose_gpus_lose_least():
    cap = capacity(node("a", cpu=64_000), node("b", cpu=32_000))
    wl = Workload((Shape(1, 1000, 8_000),), (1.0,))
    assert best(StrandedCpuFit(wl)(Request(gpus=0, cpu_milli=4_000), cap, ALL)) == 0


def test_stranded_cpu_fit_has_no_preference_for_gpu_requests():
    cap = capacity(node("a"), node("b", cpu=8_000))
    assert StrandedCpuFit()(Request(gpus=1), cap, ALL).tolist() == [0.0, 0.0]


def test_stranded_gpu_growth_counts_gpus_whose_cpu_is_taken():
    from neocloud.placement.scorers import StrandedGpuGrowth

    growth = StrandedGpuGrowth(Workload((Shape(1, 1000, 8_000),), (1.0,)))  # 8 CPUs per GPU
    cap = capacity(node("a", gpus=8, cpu=64_000))
    cpu_only = growth(Request(gpus=0, cpu_milli=16_000), cap, np.array([0]))
    balanced = growth(Request(gpus=1, cpu_milli=8_000), cap, np.array([0]))
    hungry = growth(Request(gpus=1, cpu_milli=24_000), cap, np.array([0]))
    assert cpu_only.tolist() == [2000.0]  # 48 CPUs left serve 6 of the 8 free GPUs
    assert balanced.tolist() == [0.0]
    assert hungry.tolist() == [2000.0]  # 40 CPUs serve 5 of the 7 GPUs left


def test_stranded_gpu_growth_is_zero_for_a_workload_that_asks_no_cpu():
    from neocloud.placement.scorers import StrandedGpuGrowth

    growth = StrandedGpuGrowth(Workload.whole_gpus([8]))
    cap = capacity(node("a", gpus=8, cpu=8_000))
    assert growth(Request(gpus=0, cpu_milli=8_000), cap, np.array([0])).tolist() == [0.0]

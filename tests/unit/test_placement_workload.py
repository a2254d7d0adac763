import pytest

from neocloud.kernel.errors import InvalidInput
from neocloud.placement.request import Request
from neocloud.placement.workload import Shape, Workload


def test_from_requests_weights_shapes_by_frequency():
    reqs = [Request(gpus=1)] * 3 + [Request(gpus=2)]
    wl = Workload.from_requests(reqs)
    assert dict(zip(wl.shapes, wl.weights, strict=True)) == {
        Shape(1, 1000, 0): 0.75,
        Shape(2, 1000, 0): 0.25,
    }


def test_from_requests_keeps_the_most_frequent_shapes_up_to_the_coverage():
    reqs = [Request(gpus=1)] * 8 + [Request(gpus=2)] * 1 + [Request(gpus=4)] * 1
    wl = Workload.from_requests(reqs, coverage=0.8)
    assert wl.shapes == (Shape(1, 1000, 0),) and wl.weights == (1.0,)


def test_from_requests_mixes_restricted_and_unrestricted_shapes():
    wl = Workload.from_requests([Request(gpus=1), Request(gpus=1, models=frozenset({"T4"}))])
    assert set(wl.shapes) == {Shape(1, 1000, 0), Shape(1, 1000, 0, ("T4",))}


def test_ties_in_frequency_are_ranked_as_the_artifact_ranks_typical_pods():
    # GetTypicalPods: by count, then CPU, milli-GPU, GPU count and model string, all descending.
    reqs = [Request(gpus=1, cpu_milli=1000), Request(gpus=1, cpu_milli=8000), Request(gpus=2, cpu_milli=1000)]
    wl = Workload.from_requests(reqs * 2 + [Request(gpus=0, cpu_milli=500)], coverage=0.5)
    assert wl.shapes == (Shape(1, 1000, 8000), Shape(2, 1000, 1000))


def test_shape_of_a_cpu_only_request_has_no_gpu_milli():
    assert Shape.of(Request(gpus=0, cpu_milli=4000)) == Shape(0, 0, 4000)


def test_shape_keeps_allowed_models_sorted():
    assert Shape.of(Request(models=frozenset({"T4", "A10"}))).models == ("A10", "T4")


def test_whole_gpus_is_uniform_over_power_of_two_sizes():
    wl = Workload.whole_gpus([8, 4])
    assert [s.gpus for s in wl.shapes] == [1, 2, 4, 8]
    assert wl.weights == (0.25, 0.25, 0.25, 0.25)


def test_whole_gpus_needs_gpus():
    with pytest.raises(InvalidInput):
        Workload.whole_gpus([0])


def test_weights_must_sum_to_one():
    with pytest.raises(InvalidInput, match="sum to 1"):
        Workload((Shape(1, 1000, 0),), (0.5,))


def test_from_requests_refuses_no_requests():
    with pytest.raises(InvalidInput):
        Workload.from_requests([])

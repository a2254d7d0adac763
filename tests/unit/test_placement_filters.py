import numpy as np

from neocloud.fleet.capacity import NodeShare
from neocloud.placement.filters import (
    EnoughCpu,
    EnoughGpus,
    EnoughMemory,
    GpuModelAllowed,
    Schedulable,
)
from neocloud.placement.request import Request
from tests.builders import capacity, node


def test_schedulable_rejects_cordoned_nodes():
    cap = capacity(node("a"), node("b"))
    cap.schedulable[1] = False
    assert Schedulable()(Request(), cap).tolist() == [True, False]


def test_gpu_model_keeps_only_allowed_models():
    cap = capacity(node("a", model="H100"), node("b", model="T4", gpus=2))
    mask = GpuModelAllowed()(Request(models=frozenset({"T4"})), cap)
    assert [cap.fleet.nodes[i].id for i in np.flatnonzero(mask)] == ["b"]


def test_gpu_model_ignores_models_for_cpu_only_requests():
    cap = capacity(node("a", model="H100"), node("b", model="T4", gpus=2))
    assert GpuModelAllowed()(Request(gpus=0, models=frozenset({"T4"})), cap).all()


def test_enough_cpu_compares_free_cpu():
    cap = capacity(node("a", cpu=8_000), node("b", cpu=4_000))
    assert EnoughCpu()(Request(cpu_milli=6_000), cap).tolist() == [True, False]


def test_enough_memory_compares_free_memory():
    cap = capacity(node("a", mem=1_024), node("b", mem=8_192))
    assert EnoughMemory()(Request(memory_mib=2_048), cap).tolist() == [False, True]


def test_enough_gpus_counts_wholly_free_gpus_for_whole_requests():
    cap = capacity(node("a", gpus=2), node("b", gpus=4))
    cap.take((NodeShare(1, (0,), 100, 0, 0),))
    assert EnoughGpus()(Request(gpus=4), cap).tolist() == [False, False]
    assert EnoughGpus()(Request(gpus=2), cap).tolist() == [True, True]


def test_enough_gpus_needs_one_gpu_with_room_for_a_sharing_request():
    cap = capacity(node("a", gpus=1), node("b", gpus=1))
    cap.take((NodeShare(0, (0,), 700, 0, 0), NodeShare(1, (0,), 400, 0, 0)))
    assert EnoughGpus()(Request(gpu_milli=500), cap).tolist() == [False, True]

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.fleet.capacity import Capacity, NodeShare
from neocloud.placement.filters import (
    EnoughCpu,
    EnoughGpus,
    EnoughMemory,
    GpuModelAllowed,
    Schedulable,
    standard_filters,
)
from neocloud.placement.request import Request
from tests.builders import capacity, node
from tests.strategies import fleets


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


@settings(max_examples=40, deadline=None)
@given(
    fleets(),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.sampled_from([0, 2, 4]), st.integers(0, 64_000)), max_size=20
    ),
    st.builds(
        Request,
        gpus=st.sampled_from([0, 1, 4]),
        cpu_milli=st.sampled_from([0, 0, 4_000]),
        memory_mib=st.sampled_from([0, 0, 8_192]),
        models=st.sampled_from([None, frozenset({"GB200"}), frozenset({"H100"})]),
    ),
)
def test_a_filter_that_says_it_is_vacuous_passes_every_node(f, takes, req):
    """The searches skip a filter whose `vacuous(req)` is True: it must then pass every node, whatever
    has been taken from them."""
    cap = Capacity(f)
    for node_index, gpus, cpu in takes:
        i = node_index % len(f.nodes)
        slots = tuple(int(s) for s in np.flatnonzero(cap.gpu_free[i] == 1000)[:gpus])
        share = (NodeShare(i, slots, 1000 if slots else 0, min(cpu, int(cap.cpu_free[i])), 0),)
        cap.take(share)
    nodes = np.arange(len(f.nodes), dtype=np.int64)
    for flt in standard_filters():
        vacuous = getattr(flt, "vacuous", None)
        if vacuous is not None and vacuous(req):
            assert flt(req, cap).all()
            assert flt.on(req, cap, nodes).all()

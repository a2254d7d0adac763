"""`default`'s rule 8 (`model-scarcity`): a request that could go elsewhere keeps off the GPU models
that model-bound requests need (their demand compared with the models' supply), and with it the
stranded-GPU term stays on for model-bound workloads; and rule 7's memory term (when CPU binds, GPUs
stranded for lack of memory count too)."""

import random

import numpy as np
import pytest

from neocloud.fleet.capacity import Capacity
from neocloud.placement.default import RULES, DefaultScore, cpu_binds, neocloud_default
from neocloud.placement.engine import place
from neocloud.placement.fgd import Fragmentation
from neocloud.placement.framework import Placement
from neocloud.placement.request import Request
from neocloud.placement.scorers import ModelScarcity, StrandedGpuGrowth
from neocloud.placement.workload import Shape, Workload
from tests.builders import fleet, node

# Half the requests may use any GPU, half only T4; the T4 node has half the GPUs: the T4-bound demand
# alone fills it (claim 1), nothing is bound to G2 (claim 0).
_BOUND = Workload((Shape(1, 1000, 4_000), Shape(1, 1000, 4_000, ("T4",))), (0.5, 0.5))
_ANY = Request(gpus=1, cpu_milli=4_000)
_T4 = Request(gpus=1, cpu_milli=4_000, models=frozenset({"T4"}))


def _fleet():
    return fleet(node("g", model="G2", gpus=4, cpu=32_000), node("t", model="T4", gpus=4, cpu=32_000))


def _index(f, name: str) -> int:
    return f.index_of[name]


def test_the_claim_compares_bound_demand_with_each_models_supply():
    f = _fleet()
    cap = Capacity(f)
    everywhere = np.arange(len(f.nodes))
    scarcity = ModelScarcity(_BOUND)
    took = scarcity(_ANY, cap, everywhere)
    assert took[_index(f, "t")] == pytest.approx(1000.0)  # all of the T4 GPU is claimed
    assert took[_index(f, "g")] == 0.0
    # a request bound to T4 has only T4 candidates: nothing to compare
    assert not scarcity(_T4, cap, np.array([_index(f, "t")])).any()
    # half the bound demand: half the T4 claimed
    light = Workload((Shape(1, 1000, 4_000), Shape(1, 1000, 4_000, ("T4",))), (0.75, 0.25))
    assert ModelScarcity(light)(_ANY, cap, everywhere)[_index(f, "t")] == pytest.approx(500.0)
    # a CPU-only request takes no GPU (its CPU is the stranded-GPU term's)
    assert not scarcity(Request(gpus=0, cpu_milli=8_000), cap, everywhere).any()
    # a sharing request takes its fraction of the claim
    half = scarcity(Request(gpus=1, gpu_milli=500, cpu_milli=1_000), cap, everywhere)
    assert half[_index(f, "t")] == pytest.approx(500.0)
    # no model-bound shape: no claim anywhere
    free = Workload((Shape(1, 1000, 4_000),), (1.0,))
    assert not ModelScarcity(free)(_ANY, cap, everywhere).any()


# Few requests bound to T4 and more bound to G2, but one T4 GPU against eight G2: FGD's measure, which
# weighs shapes by how often they occur, not by what they leave of each model, sends a free request to
# T4 (using up the GPU the popular G2-bound shape cannot use looks like removing more fragmentation);
# the claims are T4 0.9 and G2 0.34 of their supply.
_SKEWED = Workload(
    (Shape(1, 1000, 4_000), Shape(1, 1000, 4_000, ("T4",)), Shape(1, 1000, 4_000, ("G2",))), (0.6, 0.1, 0.3)
)


def _run(rules: frozenset[str], seed: int) -> int:
    """A request that may go anywhere, then one bound to T4: how many T4 ones fail."""
    f = fleet(node("g", model="G2", gpus=8, cpu=64_000), node("t", model="T4", gpus=1, cpu=64_000))
    cap, rng = Capacity(f), random.Random(seed)
    policy = neocloud_default(_SKEWED, rules)
    failed = 0
    for req in [_ANY, _T4]:
        verdict = place(policy, req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
        elif req is _T4:
            failed += 1
    return failed


@pytest.mark.parametrize("seed", range(5))
def test_requests_that_could_go_anywhere_leave_the_bound_models_gpus_to_the_bound_requests(seed):
    assert _run(RULES, seed) == 0


def test_without_the_rule_the_free_requests_take_the_bound_models_gpus():
    assert all(_run(RULES - {"model-scarcity"}, seed) > 0 for seed in range(5))


def test_the_rule_keeps_the_stranded_gpu_term_on_model_bound_workloads():
    with_rule = DefaultScore(Fragmentation(_BOUND), _BOUND, RULES)
    without = DefaultScore(Fragmentation(_BOUND), _BOUND, RULES - {"model-scarcity"})
    assert with_rule.stranded is not None and with_rule.scarce_models is not None
    assert without.stranded is None and without.scarce_models is None
    free = Workload((Shape(1, 1000, 4_000),), (1.0,))
    assert DefaultScore(Fragmentation(free), free, RULES).scarce_models is None  # nothing bound


def test_workload_memory_per_gpu_is_read_from_the_requests_and_kept_by_covering():
    reqs = [Request(gpus=1, memory_mib=8_000)] * 3 + [Request(gpus=0, cpu_milli=1_000, memory_mib=6_000)]
    w = Workload.from_requests(reqs, 1.0)
    assert w.memory_per_gpu_milli == pytest.approx(30_000 / 3_000)  # CPU-only requests included
    assert w.gpu_memory_per_gpu_milli == pytest.approx(24_000 / 3_000)  # GPU requests only
    cut = w.covering(0.7)
    assert (cut.memory_per_gpu_milli, cut.gpu_memory_per_gpu_milli) == (
        w.memory_per_gpu_milli,
        w.gpu_memory_per_gpu_milli,
    )
    assert Workload.from_requests(reqs).memory_per_gpu_milli == w.memory_per_gpu_milli


def test_gpus_stranded_for_lack_of_memory_count_only_with_the_memory_term():
    w = Workload((Shape(1, 1000, 1_000),), (1.0,), memory_per_gpu_milli=10.0)  # 10 GiB per GPU
    f = fleet(node("a", gpus=4, cpu=64_000, mem=40_000), node("b", gpus=4, cpu=64_000, mem=400_000))
    cap = Capacity(f)
    everywhere = np.arange(2)
    hungry = Request(gpus=0, cpu_milli=1_000, memory_mib=30_000)
    grows = StrandedGpuGrowth(w, memory_per_gpu_milli=w.memory_per_gpu_milli)(hungry, cap, everywhere)
    assert grows[f.index_of["a"]] == pytest.approx(3_000.0)  # 10 GiB left serve one of four GPUs
    assert grows[f.index_of["b"]] == 0.0
    assert not StrandedGpuGrowth(w)(hungry, cap, everywhere).any()  # CPU is plentiful


def test_under_cpu_scarcity_the_stranded_term_counts_memory_and_otherwise_not():
    w = Workload(
        (Shape(1, 1000, 8_000), Shape(0, 0, 16_000)), (0.5, 0.5), memory_per_gpu_milli=10.0
    )  # 24 CPUs per GPU
    hungry = Request(gpus=0, cpu_milli=1_000, memory_mib=30_000)
    for cpu, binds in ((64_000, True), (512_000, False)):
        f = fleet(node("a", gpus=4, cpu=cpu, mem=40_000), node("b", gpus=4, cpu=cpu, mem=400_000))
        assert cpu_binds(w, f) is binds
        cap = Capacity(f)
        everywhere = np.arange(2)
        score = DefaultScore(Fragmentation(w), w, RULES)
        no_memory = DefaultScore(Fragmentation(w), w, RULES - {"cpu-scarcity"})
        differs = not np.array_equal(score(hungry, cap, everywhere), no_memory(hungry, cap, everywhere))
        # without CPU scarcity rule 7 changes nothing here (every shape is typical, no whole node to
        # keep: the request is CPU-only); with it, only the memory term can tell the two apart
        assert differs is binds


def test_rule_9_sends_memory_hungry_work_where_it_strands_no_gpu():
    # Plenty of CPU (rule 7 does not act), 10 GiB asked per GPU by the GPU requests: node a has memory
    # for one more GPU after the request, node b for all of its GPUs. With rule 9 the request goes to b.
    w = Workload(
        (Shape(1, 1000, 1_000), Shape(0, 0, 1_000)),
        (0.5, 0.5),
        memory_per_gpu_milli=10.0,
        gpu_memory_per_gpu_milli=10.0,
    )
    f = fleet(node("a", gpus=4, cpu=64_000, mem=40_000), node("b", gpus=4, cpu=64_000, mem=400_000))
    assert not cpu_binds(w, f)
    hungry = Request(gpus=0, cpu_milli=1_000, memory_mib=30_000)
    for seed in range(5):
        chosen = {
            name: place(neocloud_default(w, rules), hungry, Capacity(f), random.Random(seed)).shares[0].node
            for name, rules in (("with", RULES), ("without", RULES - {"stranded-memory"}))
        }
        assert chosen["with"] == f.index_of["b"]
    everywhere = np.arange(2)
    cap = Capacity(f)
    with_rule = neocloud_default(w).scorers[0][0](hungry, cap, everywhere)
    without = neocloud_default(w, RULES - {"stranded-memory"}).scorers[0][0](hungry, cap, everywhere)
    assert with_rule[f.index_of["b"]] > with_rule[f.index_of["a"]]
    assert not np.array_equal(with_rule, without)

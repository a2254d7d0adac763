"""The configuration bound is a valid limit: never below what any placement allocates, and tighter
than the pooled one where pooling lets pods share a node they cannot share."""

import random

from neocloud.bench.openb_bound import placement_bound
from neocloud.bench.openb_configurations import configuration_bound
from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.fleet.fleet import Fleet
from neocloud.placement import policies
from neocloud.placement.engine import place
from neocloud.placement.framework import Placement
from neocloud.placement.request import Request
from neocloud.placement.workload import Workload
from tests.builders import fleet, node


def brute_force(f: Fleet, reqs: list[Request]) -> int:
    """The most milli-GPU any placement of any subset of `reqs` allocates, by exhaustive search."""
    n = len(f.nodes)
    cpu = [int(f.node_cpu[i]) for i in range(n)]
    mem = [int(f.node_memory[i]) for i in range(n)]
    gpus = [[MILLI] * int(f.node_gpus[i]) for i in range(n)]
    best = 0

    def go(k: int, got: int) -> None:
        nonlocal best
        best = max(best, got)
        if k == len(reqs):
            return
        left = sum(r.gpus * r.gpu_milli for r in reqs[k:])
        if got + left <= best:
            return
        r = reqs[k]
        for i in range(n):
            model = f.models[int(f.node_model[i])]
            if (
                (r.models is not None and model not in r.models)
                or cpu[i] < r.cpu_milli
                or mem[i] < r.memory_mib
            ):
                continue
            cpu[i] -= r.cpu_milli
            mem[i] -= r.memory_mib
            if r.shares_gpu:
                for s in sorted({s for s, v in enumerate(gpus[i]) if v >= r.gpu_milli}):
                    gpus[i][s] -= r.gpu_milli
                    go(k + 1, got + r.gpu_milli)
                    gpus[i][s] += r.gpu_milli
            else:
                whole = [s for s, v in enumerate(gpus[i]) if v == MILLI][: r.gpus]
                if len(whole) == r.gpus:
                    for s in whole:
                        gpus[i][s] = 0
                    go(k + 1, got + r.gpus * MILLI)
                    for s in whole:
                        gpus[i][s] = MILLI
            cpu[i] += r.cpu_milli
            mem[i] += r.memory_mib
        go(k + 1, got)

    go(0, 0)
    return best


def random_instance(rng: random.Random, nodes: int, pods: int) -> tuple[Fleet, list[Request]]:
    f = fleet(
        *(
            node(
                f"n{i}",
                model=rng.choice(["T4", "G2"]),
                gpus=rng.choice([1, 2, 4]),
                cpu=rng.choice([8_000, 16_000]),
                mem=rng.choice([32_000, 64_000]),
            )
            for i in range(nodes)
        )
    )
    reqs = []
    for _ in range(pods):
        share = rng.random() < 0.5
        reqs.append(
            Request(
                gpus=1 if share else rng.choice([1, 1, 2, 4]),
                gpu_milli=rng.choice([200, 300, 500, 600, 700]) if share else MILLI,
                cpu_milli=rng.choice([1_000, 4_000, 6_000, 9_000]),
                memory_mib=rng.choice([4_000, 16_000, 40_000]),
                models=frozenset({"T4"}) if rng.random() < 0.2 else None,
            )
        )
    return f, reqs


def test_the_bound_is_at_least_the_optimum_and_the_built_placement_at_most_it() -> None:
    rng = random.Random(13)
    equal = 0
    for _ in range(40):
        f, reqs = random_instance(rng, rng.randint(1, 3), rng.randint(1, 6))
        opt = brute_force(f, reqs)
        b = configuration_bound(f, reqs)
        assert b.allocatable_milli >= opt - 1e-6
        assert b.achieved_milli <= opt
        assert b.allocatable_milli <= placement_bound(f, reqs).allocatable_milli + 1e-6
        equal += abs(b.allocatable_milli - opt) < 1e-6
    # The LP is a relaxation: it is exact on most tiny instances, not on all.
    assert equal >= 30


def test_the_bound_is_at_least_every_policys_allocation() -> None:
    rng = random.Random(7)
    for _ in range(10):
        f, reqs = random_instance(rng, rng.randint(3, 6), rng.randint(10, 25))
        bound = configuration_bound(f, reqs).allocatable_milli
        workload = Workload.from_requests(reqs)
        for name in policies.POLICY_NAMES:
            policy, cap, got = policies.get_policy(name, workload), Capacity(f), 0
            for r in reqs:
                verdict = place(policy, r, cap, rng)
                if isinstance(verdict, Placement):
                    cap.take(verdict.shares)
                    got += r.gpus * r.gpu_milli
            assert got <= bound + 1e-6, name


def test_a_node_holds_only_what_fits_on_it_at_once() -> None:
    # One node, 2 GPUs, 10 CPUs: a 7-CPU pod and a 4-CPU pod never fit together. Pooling CPU lets the
    # relaxation place 1.75 pods; whole node fillings place one.
    f = fleet(node("a", model="T4", gpus=2, cpu=10_000, mem=100_000))
    reqs = [Request(gpus=1, cpu_milli=7_000), Request(gpus=1, cpu_milli=4_000)]
    assert placement_bound(f, reqs).allocatable_milli > 1_500
    b = configuration_bound(f, reqs)
    assert b.allocatable_milli == brute_force(f, reqs) == 1_000
    assert b.unallocated_pct == 50.0


def test_sharing_pods_over_half_a_gpu_take_a_gpu_each() -> None:
    f = fleet(node("a", model="T4", gpus=2, cpu=10_000, mem=100_000))
    b = configuration_bound(f, [Request(gpus=1, gpu_milli=600)] * 3)
    assert abs(b.allocatable_milli - 1_200) < 1e-6
    assert b.achieved_milli == 1_200

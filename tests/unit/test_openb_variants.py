"""openb variants generated from the default pod list, as the shipped ones were."""

from collections import Counter

import pytest

from neocloud.bench.openb_variants import (
    GRID,
    Variant,
    describe,
    generate,
    gpu_request,
    grid,
    pod_class,
    spec_table,
)
from neocloud.kernel.errors import InvalidInput


def _pod(name: str, gpus: int, milli: int, cpu: int = 4000, spec: str = "") -> dict[str, str]:
    return {
        "name": name,
        "cpu_milli": str(cpu),
        "memory_mib": "0",
        "num_gpu": str(gpus),
        "gpu_milli": str(milli),
        "gpu_spec": spec,
        "creation_time": "1",
        "deletion_time": "5",
    }


SOURCE = [
    *[_pod(f"s{i}", 1, 250 + 10 * i) for i in range(40)],
    *[_pod(f"o{i}", 1, 1000) for i in range(60)],
    *[_pod(f"m{i}", 4, 1000) for i in range(5)],
    *[_pod(f"c{i}", 0, 0, cpu=1000 + i) for i in range(20)],
]
SPECS = spec_table(
    [_pod("a", 1, 500, spec="T4"), _pod("b", 1, 1000, spec="G2|T4"), _pod("c", 4, 1000, spec="G2")]
)


def _share_of_gpu(rows: list[dict[str, str]], kind: str) -> float:
    return sum(gpu_request(r) for r in rows if pod_class(r) == kind) / sum(gpu_request(r) for r in rows)


def test_names_and_parsing_follow_the_artifact_files():
    assert Variant.parse("gpushare:80").name == "gpushare80"
    assert Variant.parse("cpu050") == Variant("cpu", 50)
    assert Variant.parse("cpu:250").name == "cpu250"
    assert [v.name for v in grid()][:5] == ["cpu050", "cpu100", "cpu200", "cpu250", "gpushare40"]
    assert sum(len(levels) for levels in GRID.values()) == 16


@pytest.mark.parametrize("text", ["gpushare", "bogus:10", "gpushare:x", "gpushare:101", "multigpu:-1"])
def test_bad_variants_are_rejected_with_a_reason(text):
    with pytest.raises(InvalidInput):
        Variant.parse(text)


def test_cpu_variants_keep_the_gpu_pods_and_set_the_cpu_only_share_of_pods():
    for level, n_cpu in ((50, 6), (250, 35)):  # 105 GPU pods: 5 % of pods -> 5.5 -> 6; 25 % -> 35
        rows = generate(SOURCE, Variant("cpu", level), seed=1)
        kinds = Counter(pod_class(r) for r in rows)
        assert kinds["cpu"] == n_cpu
        assert (kinds["share"], kinds["one"], kinds["multi"]) == (40, 60, 5)


def test_sharing_variants_keep_the_gpu_pod_count_and_reach_the_share_of_the_gpu_request():
    for level in (40, 60, 100):
        rows = generate(SOURCE, Variant("gpushare", level), seed=2)
        kinds = Counter(pod_class(r) for r in rows)
        assert kinds["share"] + kinds["one"] + kinds["multi"] == 105
        assert kinds["cpu"] == 20
        assert level / 100 <= _share_of_gpu(rows, "share") < level / 100 + 0.05
    assert Counter(pod_class(r) for r in generate(SOURCE, Variant("gpushare", 100), seed=2))["share"] == 105


def test_multigpu_variants_only_add_multi_gpu_pods():
    rows = generate(SOURCE, Variant("multigpu", 30), seed=3)
    kinds = Counter(pod_class(r) for r in rows)
    assert (kinds["cpu"], kinds["share"], kinds["one"]) == (20, 40, 60)
    assert 0.30 <= _share_of_gpu(rows, "multi") < 0.34


def test_spec_variants_constrain_that_share_of_gpu_pods_with_constraints_of_their_kind():
    rows = generate(SOURCE, Variant("gpuspec", 20), seed=4, specs=SPECS)
    constrained = [r for r in rows if r["gpu_spec"]]
    assert len(constrained) == 21  # 20 % of 105 GPU pods
    assert all(pod_class(r) != "cpu" for r in constrained)
    for r in constrained:
        expected = {"share": "T4", "one": "G2|T4", "multi": "G2"}[pod_class(r)]
        assert r["gpu_spec"] == expected
    assert describe(rows)["spec_pct_of_gpu_pods"] == 20.0


def test_spec_variants_need_a_reference_of_constraints():
    with pytest.raises(InvalidInput):
        generate(SOURCE, Variant("gpuspec", 10), seed=1)


def test_generation_is_a_function_of_the_seed_and_keeps_the_times():
    v = Variant("gpushare", 60)
    assert generate(SOURCE, v, seed=3) == generate(SOURCE, v, seed=3)
    assert generate(SOURCE, v, seed=3) != generate(SOURCE, v, seed=4)
    rows = generate(SOURCE, v, seed=3)
    assert {r["creation_time"] for r in rows} == {"1"} and len({r["name"] for r in rows}) == len(rows)

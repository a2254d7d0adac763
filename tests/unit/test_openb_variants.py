"""Held-out openb mixes: the default pod list resampled to new proportions."""

from collections import Counter

from neocloud.bench.openb_variants import Variant, gpu_request, pod_class, resample


def _pod(name: str, gpus: int, milli: int, cpu: int = 4000) -> dict[str, str]:
    return {
        "name": name,
        "cpu_milli": str(cpu),
        "memory_mib": "0",
        "num_gpu": str(gpus),
        "gpu_milli": str(milli),
    }


SOURCE = [
    *[_pod(f"s{i}", 1, 500) for i in range(40)],
    *[_pod(f"o{i}", 1, 1000) for i in range(60)],
    *[_pod(f"m{i}", 4, 1000) for i in range(5)],
    *[_pod(f"c{i}", 0, 0) for i in range(20)],
]


def _share(rows: list[dict[str, str]], kind: str) -> float:
    total = sum(gpu_request(r) for r in rows)
    return sum(gpu_request(r) for r in rows if pod_class(r) == kind) / total


def test_resample_gives_sharing_pods_their_target_share_of_the_gpu_request():
    rows = resample(SOURCE, Variant("share60", share=0.6), seed=1)
    assert abs(_share(rows, "share") - 0.6) < 0.02


def test_resample_keeps_the_source_gpu_request():
    rows = resample(SOURCE, Variant("multi40", multi=0.4), seed=1)
    total = sum(gpu_request(r) for r in SOURCE)
    assert total <= sum(gpu_request(r) for r in rows) < total + 3 * 4000


def test_resample_scales_the_cpu_only_pods():
    rows = resample(SOURCE, Variant("cpu200", cpu_scale=2.0), seed=1)
    assert Counter(pod_class(r) for r in rows)["cpu"] == 40


def test_resample_constrains_a_share_of_gpu_pods_to_a_fleet_model():
    rows = resample(SOURCE, Variant("spec50", spec=0.5), seed=1, fleet_models={"T4": 1})
    gpu_rows = [r for r in rows if pod_class(r) != "cpu"]
    assert 0.3 < sum(r["gpu_spec"] == "T4" for r in gpu_rows) / len(gpu_rows) < 0.7


def test_resample_is_a_function_of_the_seed():
    v = Variant("share20", share=0.2)
    assert resample(SOURCE, v, seed=3) == resample(SOURCE, v, seed=3)
    assert resample(SOURCE, v, seed=3) != resample(SOURCE, v, seed=4)

"""The injector against the published figures of the cluster each failure profile comes from.

Fixed seeds; every tolerance is the Poisson sampling error of the count compared (2 standard errors
per figure, the chi-square's 99.9 % quantile for the mix), never fitted to the output."""

from __future__ import annotations

import math

import pytest

from neocloud.bench.health_calibration import CHI2_7DF_999, calibration, failure_mix, job_mtbf
from neocloud.health.domain.profiles import llama3_profile, profile, profiles, rsc1_profile
from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput


def test_the_failure_mix_matches_llama3_by_cause_within_sampling_error() -> None:
    rows, chi2 = failure_mix(seeds=5)
    assert [r.kind for r in rows] == list(ref.LLAMA3_INTERRUPTIONS)
    assert chi2 < CHI2_7DF_999
    assert all(abs(r.z) < 3 for r in rows), [(r.kind, r.z) for r in rows]


@pytest.mark.parametrize(
    ("name", "gpus", "published"),
    [("llama3", 16_384, 54 * 24 / 419), ("rsc1", 16_384, 1.8)],
)
def test_each_profile_gives_its_own_sources_job_mtbf_within_two_standard_errors(
    name: str, gpus: int, published: float
) -> None:
    p = profile(name)
    assert p.published_job_mtbf_hours[gpus] == pytest.approx(published, rel=1e-3)
    m = job_mtbf(p, gpus, published, "test", events=400, seed=1)
    assert m.failures > 300
    assert m.standard_error_hours == pytest.approx(m.measured_hours / math.sqrt(m.failures))
    assert abs(m.measured_hours - published) <= 2 * m.standard_error_hours


def test_the_rsc1_model_does_not_give_the_small_job_figures_and_the_bench_says_so() -> None:
    cal = calibration(seeds=1, events=400)
    rows = {(m.profile, m.job_gpus): m for m in cal.mtbf}
    assert rows[("rsc1", 16_384)].within and rows[("llama3", 16_384)].within
    assert not rows[("rsc1", 8)].within and not rows[("rsc1", 1_024)].within
    # The paper's model is linear in nodes: 1,000 / (6.50 x nodes) days.
    assert rows[("rsc1", 8)].model_hours == pytest.approx(1000 / 6.5 * 24)
    assert rows[("rsc1", 1_024)].model_hours == pytest.approx(1000 / (6.5 * 128) * 24)


def test_rsc1_keeps_llama3s_split_over_causes_and_scales_only_the_total() -> None:
    llama, rsc = llama3_profile(), rsc1_profile()
    assert rsc.per_gpu_day == pytest.approx(6.5e-3 / 8)
    for a, b in zip(llama.kinds, rsc.kinds, strict=True):
        assert (a.name, a.component, a.action) == (b.name, b.component, b.action)
        assert b.per_gpu_day / rsc.per_gpu_day == pytest.approx(a.per_gpu_day / llama.per_gpu_day)


def test_an_unknown_profile_is_bad_input_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as err:
        profile("nope")
    assert err.value.details == {"profiles": sorted(profiles())}

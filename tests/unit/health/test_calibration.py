"""The injector against the published figures of the population each failure profile comes from.

Fixed seeds; every tolerance is a Poisson sampling error (2 standard errors per figure, the
chi-square's 99.9 % quantile for the mix), never fitted to the output."""

from __future__ import annotations

import math

import pytest

from neocloud.bench.health_calibration import CHI2_7DF_999, PUBLISHED_SAMPLE, calibration, failure_mix
from neocloud.health.domain.profiles import (
    fit_rate,
    llama3_profile,
    profile,
    profiles,
    rsc1_profile,
    rsc_jobs_fit,
    rsc_jobs_profile,
)
from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput


def test_the_failure_mix_matches_llama3_by_cause_within_sampling_error() -> None:
    rows, chi2 = failure_mix(seeds=5)
    assert [r.kind for r in rows] == list(ref.LLAMA3_INTERRUPTIONS)
    assert chi2 < CHI2_7DF_999
    assert all(abs(r.z) < 3 for r in rows), [(r.kind, r.z) for r in rows]


def test_each_published_job_mtbf_is_given_by_the_profile_of_its_own_population() -> None:
    cal = calibration(seeds=5, events=400)
    rows = {(m.profile, m.job_gpus): m for m in cal.mtbf}
    assert set(rows) == {
        ("llama3", 16_384),
        ("rsc1", 16_384),
        ("rsc1", 131_072),
        ("rsc-jobs", 8),
        ("rsc-jobs", 1_024),
    }
    assert rows[("llama3", 16_384)].published_hours == pytest.approx(54 * 24 / 419)
    assert rows[("rsc1", 16_384)].published_hours == 1.8
    assert rows[("rsc-jobs", 8)].published_hours == pytest.approx(47.7 * 24)
    assert rows[("rsc-jobs", 1_024)].published_hours == 7.9
    for m in rows.values():
        assert m.failures > 1_800  # 5 seeds x ≈400
        assert m.standard_error_hours == pytest.approx(m.measured_hours / math.sqrt(m.failures))
        # the injector gives its profile's model within 2 SE of its own sample ...
        assert abs(m.measured_hours - m.model_hours) <= 2 * m.standard_error_hours, (m.profile, m.job_gpus)
        # ... and the model gives the published figure within 2 SE of a 400-failure sample
        assert abs(m.model_hours / m.published_hours - 1) <= 2 / math.sqrt(PUBLISHED_SAMPLE)
        assert m.within


def test_rsc_jobs_is_one_rate_for_both_measured_figures_with_its_residuals_reported() -> None:
    fit = rsc_jobs_fit()
    r8, r1024 = 1000 / 47.7, 24_000 / (7.9 * 128)  # each figure's rate, per 1,000 node-days
    assert fit.implied == {8: pytest.approx(r8), 1_024: pytest.approx(r1024)}
    assert fit.per_1000_node_days == pytest.approx(math.sqrt(r8 * r1024))  # 22.31
    # a least-squares fit of log MTTF with one parameter: residuals equal and opposite in log
    assert math.log1p(fit.residuals[8]) == pytest.approx(-math.log1p(fit.residuals[1_024]))
    assert fit.residuals[8] == pytest.approx(-0.0602, abs=1e-4)
    assert fit.residuals[1_024] == pytest.approx(0.0640, abs=1e-4)
    assert rsc_jobs_profile().per_gpu_day == pytest.approx(fit.per_1000_node_days / 1000 / 8)
    # adding a figure the rate already gives changes nothing: the fit is of the figures, not tuned
    same = fit_rate({8: 47.7 * 24, 1_024: 7.9, 64: fit.model_hours(64)}, 8)
    assert same.per_1000_node_days == pytest.approx(fit.per_1000_node_days)


def test_rsc1s_projection_rate_does_not_give_the_measured_figures() -> None:
    rsc1 = rsc1_profile()
    assert rsc1.job_mtbf_hours(16_384) == pytest.approx(1000 / (6.5 * 2048) * 24)  # 1.80 h
    assert rsc1.job_mtbf_hours(131_072) == pytest.approx(1000 / (6.5 * 16_384) * 24)  # 0.225 h
    for gpus, measured in ref.META_RSC_JOB_MTTF_MEASURED_HOURS.items():
        assert rsc1.job_mtbf_hours(gpus) / measured > 3  # 153.8 d vs 47.7 d, 28.8 h vs 7.9 h
    assert rsc_jobs_fit().per_1000_node_days / 6.5 == pytest.approx(3.43, abs=0.01)


@pytest.mark.parametrize("name", ["rsc1", "rsc-jobs"])
def test_the_research_cluster_profiles_keep_llama3s_split_over_causes(name: str) -> None:
    llama, other = llama3_profile(), profile(name)
    for a, b in zip(llama.kinds, other.kinds, strict=True):
        assert (a.name, a.component, a.action) == (b.name, b.component, b.action)
        assert b.per_gpu_day / other.per_gpu_day == pytest.approx(a.per_gpu_day / llama.per_gpu_day)
    assert rsc1_profile().per_gpu_day == pytest.approx(6.5e-3 / 8)


def test_an_unknown_profile_is_bad_input_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as err:
        profile("nope")
    assert err.value.details == {"profiles": sorted(profiles())}
    assert sorted(profiles()) == ["llama3", "rsc-jobs", "rsc1"]

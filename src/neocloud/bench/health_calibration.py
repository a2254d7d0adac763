"""The fault injector's calibration (`neocloud bench health --calibrate`): the injector alone, no control
plane, against the published figures of the cluster each profile comes from.

- Failure mix: the `llama3` profile on 16,384 GPUs for 54 days, `seeds` runs, the counts per cause
  summed over the runs against `seeds` x Llama 3's counts: chi-square (7 degrees of freedom) and each
  cause's z = (got - want) / sqrt(want), the Poisson standard error of the expected count.
- Job mean time between failures: for each profile and each job size its own source publishes (Llama 3's
  run for `llama3`; the paper's projections for `rsc1`; the MTTFs measured on the research clusters' jobs
  for `rsc-jobs`), the injector on that many GPUs (8 per node), `seeds` runs each over a span holding
  ≈`events` failures of the profile's model, summed. Two checks per row, both from Poisson errors:
  - the injector gives its profile's model: |measured - model| <= 2 SE, SE = measured / sqrt(failures);
  - the model gives the published figure within the 2-SE band of a sample of PUBLISHED_SAMPLE failures
    (±2 / sqrt(400) = ±10 %; 400 ≈ the 419 behind Llama 3's figure, the one published sample size we
    know; the papers do not give the counts behind the research-cluster figures).
  The rates are kernel.reference's; the one estimated rate (`rsc-jobs`, one parameter for two figures)
  is reported with its residuals (`rsc_jobs_fit`), never tuned per figure.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from neocloud.health.domain.injector import FaultInjector
from neocloud.health.domain.profiles import FailureProfile, RateFit, llama3_profile, profiles, rsc_jobs_fit
from neocloud.kernel import reference as ref
from neocloud.kernel.ids import NodeId

START = datetime(2026, 1, 1, tzinfo=UTC)
GPUS_PER_NODE = 8
# The chi-square distribution's 99.9 % quantile for 7 degrees of freedom (8 causes less one).
CHI2_7DF_999: float = 24.32


@dataclass(frozen=True, slots=True)
class KindCount:
    kind: str
    llama3: int
    injector_mean: float
    z: float  # (summed count - seeds x Llama 3's) / sqrt(seeds x Llama 3's)


PUBLISHED_SAMPLE = 400


@dataclass(frozen=True, slots=True)
class JobMtbf:
    profile: str
    job_gpus: int
    published_hours: float
    published_by: str
    model_hours: float
    measured_hours: float
    standard_error_hours: float
    failures: int

    @property
    def z(self) -> float:
        """(measured - model) in standard errors of the measurement."""
        return (self.measured_hours - self.model_hours) / self.standard_error_hours

    @property
    def injector_within(self) -> bool:
        return abs(self.z) <= 2

    @property
    def residual(self) -> float:
        """model / published - 1."""
        return self.model_hours / self.published_hours - 1

    @property
    def published_within(self) -> bool:
        return abs(self.residual) <= 2 / math.sqrt(PUBLISHED_SAMPLE)

    @property
    def within(self) -> bool:
        return self.injector_within and self.published_within

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "job_gpus": self.job_gpus,
            "published_hours": round(self.published_hours, 3),
            "published_by": self.published_by,
            "model_hours": round(self.model_hours, 3),
            "residual_pct": round(100 * self.residual, 2),
            "measured_hours": round(self.measured_hours, 3),
            "standard_error_hours": round(self.standard_error_hours, 3),
            "failures": self.failures,
            "z_measured_vs_model": round(self.z, 2),
            "injector_within_2_se": self.injector_within,
            "published_within_2_se_of_400": self.published_within,
            "within": self.within,
        }


@dataclass(frozen=True, slots=True)
class Calibration:
    seeds: int
    by_kind: list[KindCount]
    chi2: float
    mtbf: list[JobMtbf]
    fit: RateFit

    def to_json(self) -> dict[str, Any]:
        return {
            "mix": {
                "profile": "llama3",
                "seeds": self.seeds,
                "chi2": round(self.chi2, 2),
                "degrees_of_freedom": len(self.by_kind) - 1,
                "chi2_critical_999": CHI2_7DF_999,
                "by_kind": [
                    {"kind": k.kind, "llama3": k.llama3, "injector_mean": k.injector_mean, "z": round(k.z, 2)}
                    for k in self.by_kind
                ],
            },
            "job_mtbf": [m.to_json() for m in self.mtbf],
            "rsc_jobs_fit": {
                "per_1000_node_days": round(self.fit.per_1000_node_days, 3),
                "implied_per_1000_node_days": {str(g): round(r, 3) for g, r in self.fit.implied.items()},
                "residual_pct": {str(g): round(100 * r, 2) for g, r in self.fit.residuals.items()},
                "rsc1_per_1000_node_days": float(ref.META_RSC1_FAILURES_PER_1000_NODE_DAYS),
            },
        }


@dataclass(frozen=True)
class _Box:
    id: NodeId
    gpus: int


def _nodes(gpus: int) -> list[_Box]:
    return [_Box(NodeId(f"h{i:05d}"), GPUS_PER_NODE) for i in range(max(1, gpus // GPUS_PER_NODE))]


def failure_mix(seeds: int = 5) -> tuple[list[KindCount], float]:
    """The `llama3` profile on Llama 3's fleet and span, `seeds` runs summed."""
    nodes = _nodes(ref.LLAMA3_GPUS)
    end = START + timedelta(days=ref.LLAMA3_DAYS)
    kinds = llama3_profile().kinds
    totals: Counter[str] = Counter()
    for s in range(seeds):
        totals.update(f.kind.name for f in FaultInjector(kinds, seed=s).failures(nodes, START, end))
    rows = []
    for name, row in ref.LLAMA3_INTERRUPTIONS.items():
        want = row[0] * seeds
        rows.append(KindCount(name, row[0], totals[name] / seeds, (totals[name] - want) / math.sqrt(want)))
    return rows, sum(r.z**2 for r in rows)


FIGURE_FROM = {
    "llama3": "Llama 3 run (measured)",
    "rsc1": "RSC-1 r_f projection",
    "rsc-jobs": "research-cluster jobs (measured)",
}


def _figures(p: FailureProfile) -> list[tuple[int, float, str]]:
    by = FIGURE_FROM.get(p.name, p.name)
    return sorted((g, h, by) for g, h in p.published_job_mtbf_hours.items())


def job_mtbf(
    p: FailureProfile, job_gpus: int, published: float, by: str, *, events: int, seeds: int
) -> JobMtbf:
    """`seeds` runs (seeds 0..seeds-1) of the injector on `job_gpus` GPUs, each over ≈`events` failures
    of the profile's model, summed."""
    model = p.job_mtbf_hours(job_gpus)
    span_h = events * model
    n = 0
    for s in range(seeds):
        n += len(
            FaultInjector(p.kinds, seed=f"{s}:{p.name}:{job_gpus}").failures(
                _nodes(job_gpus), START, START + timedelta(hours=span_h)
            )
        )
    n = max(n, 1)
    measured = seeds * span_h / n
    return JobMtbf(p.name, job_gpus, published, by, model, measured, measured / math.sqrt(n), n)


def calibration(seeds: int = 5, events: int = 400) -> Calibration:
    by_kind, chi2 = failure_mix(seeds)
    mtbf = [
        job_mtbf(p, gpus, hours, by, events=events, seeds=seeds)
        for p in profiles().values()
        for gpus, hours, by in _figures(p)
    ]
    return Calibration(seeds, by_kind, chi2, mtbf, rsc_jobs_fit())

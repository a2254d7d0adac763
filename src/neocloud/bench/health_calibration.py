"""The fault injector's calibration (`neocloud bench health --calibrate`): the injector alone, no control
plane, against the published figures of the cluster each profile comes from.

- Failure mix: the `llama3` profile on 16,384 GPUs for 54 days, `seeds` runs, the counts per cause
  summed over the runs against `seeds` x Llama 3's counts: chi-square (7 degrees of freedom) and each
  cause's z = (got - want) / sqrt(want), the Poisson standard error of the expected count.
- Job mean time between failures: for each profile and each job size its source publishes (and, for
  `rsc1`, the two other research-cluster figures of REFERENCE.md, to show they are not its output), the
  injector on that many GPUs (8 per node) over a span holding ≈`events` failures of the profile's model;
  measured MTBF = span / failures, standard error MTBF / sqrt(failures); "within" = the published figure
  is within 2 standard errors of the measurement. Nothing is fitted: the rates are kernel.reference's.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from neocloud.health.domain.injector import FaultInjector
from neocloud.health.domain.profiles import FailureProfile, llama3_profile, profiles
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
    def within(self) -> bool:
        return abs(self.measured_hours - self.published_hours) <= 2 * self.standard_error_hours

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "job_gpus": self.job_gpus,
            "published_hours": round(self.published_hours, 3),
            "published_by": self.published_by,
            "model_hours": round(self.model_hours, 3),
            "measured_hours": round(self.measured_hours, 3),
            "standard_error_hours": round(self.standard_error_hours, 3),
            "failures": self.failures,
            "within_2_se": self.within,
        }


@dataclass(frozen=True, slots=True)
class Calibration:
    seeds: int
    by_kind: list[KindCount]
    chi2: float
    mtbf: list[JobMtbf]

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


def _figures(p: FailureProfile) -> list[tuple[int, float, str]]:
    by = {"llama3": "Llama 3 run", "rsc1": "RSC-1 model"}.get(p.name, p.name)
    out = [(g, h, by) for g, h in p.published_job_mtbf_hours.items()]
    if p.name == "rsc1":  # the research-cluster figures this model does not give, shown beside it
        out += [
            (g, h, "REFERENCE.md (research clusters)")
            for g, h in ref.META_JOB_MTBF_HOURS.items()
            if g not in p.published_job_mtbf_hours
        ]
    return sorted(out)


def job_mtbf(
    p: FailureProfile, job_gpus: int, published: float, by: str, *, events: int, seed: int
) -> JobMtbf:
    model = p.job_mtbf_hours(job_gpus)
    span_h = events * model
    hits = FaultInjector(p.kinds, seed=f"{seed}:{p.name}:{job_gpus}").failures(
        _nodes(job_gpus), START, START + timedelta(hours=span_h)
    )
    n = max(len(hits), 1)
    measured = span_h / n
    return JobMtbf(p.name, job_gpus, published, by, model, measured, measured / math.sqrt(n), len(hits))


def calibration(seeds: int = 5, events: int = 400, seed: int = 1) -> Calibration:
    by_kind, chi2 = failure_mix(seeds)
    mtbf = [
        job_mtbf(p, gpus, hours, by, events=events, seed=seed)
        for p in profiles().values()
        for gpus, hours, by in _figures(p)
    ]
    return Calibration(seeds, by_kind, chi2, mtbf)

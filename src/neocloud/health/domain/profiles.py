"""Failure profiles: a fleet's failure rates by kind, with the source they come from and the job mean
times between failures that source publishes, so the injector is calibrated against the figures of the
cluster they were measured on, never against another cluster's.

    rsc1 = profile("rsc1")
    injector = FaultInjector(rsc1.kinds, seed=7)
    rsc1.published_job_mtbf_hours   # {16384: 1.8}

Two profiles, both from `kernel.reference`:
- `llama3` (the default): Meta's Llama 3 pre-training run, 419 unexpected interruptions on 16,384 H100
  in 54 days, by cause. Its one published job figure is the run itself: 54 x 24 / 419 = 3.09 h.
- `rsc1`: Meta's research cluster RSC-1 (Kokolis et al., HPCA 2025) under the paper's model
  MTTF = 1 / (N_nodes x r_f), r_f = 6.50 failures per 1,000 node-days of 8 GPUs. The paper publishes no
  breakdown on the same causes as Llama 3, so the split over kinds is Llama 3's (only the total comes
  from RSC-1): an assumption, stated here and in docs/health.md. Its published job figure is the 1.8 h
  projection for 16,384 GPUs. The ≈47 d and ≈8 h for 8 and 1,024 GPUs are not this model's output
  (it gives 154 d and 28.8 h), and no profile is fitted to them: see docs/health.md, "Calibration".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from neocloud.health.domain.injector import FailureKind, llama3_failure_kinds
from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class FailureProfile:
    """Rates per kind (per GPU-day) and what the source publishes of job mean time between failures."""

    name: str
    kinds: tuple[FailureKind, ...]
    source: str
    published_job_mtbf_hours: Mapping[int, float]

    @property
    def per_gpu_day(self) -> float:
        return sum(k.per_gpu_day for k in self.kinds)

    def job_mtbf_hours(self, job_gpus: int) -> float:
        """The profile's model: a job on `job_gpus` GPUs fails when any of them does."""
        return 24.0 / (job_gpus * self.per_gpu_day)


def _scaled(kinds: tuple[FailureKind, ...], per_gpu_day: float) -> tuple[FailureKind, ...]:
    total = sum(k.per_gpu_day for k in kinds)
    return tuple(
        FailureKind(k.name, k.component, k.per_gpu_day * per_gpu_day / total, k.code, k.action) for k in kinds
    )


def llama3_profile() -> FailureProfile:
    hours = ref.LLAMA3_DAYS * 24 / ref.LLAMA3_UNEXPECTED_INTERRUPTIONS
    return FailureProfile(
        "llama3",
        llama3_failure_kinds(),
        "The Llama 3 Herd of Models (Meta, 2024): 419 unexpected interruptions, 16,384 H100, 54 days",
        MappingProxyType({ref.LLAMA3_GPUS: hours}),
    )


def rsc1_profile() -> FailureProfile:
    per_node_day = float(Decimal(ref.META_RSC1_FAILURES_PER_1000_NODE_DAYS) / 1000)
    return FailureProfile(
        "rsc1",
        _scaled(llama3_failure_kinds(), per_node_day / ref.META_RSC_GPUS_PER_NODE),
        "Kokolis et al., HPCA 2025: RSC-1, MTTF = 1/(N_nodes r_f), r_f = 6.50 per 1,000 node-days "
        "(the split over causes is Llama 3's)",
        MappingProxyType({16_384: ref.META_JOB_MTBF_HOURS[16_384]}),
    )


def profiles() -> dict[str, FailureProfile]:
    return {p.name: p for p in (llama3_profile(), rsc1_profile())}


def profile(name: str) -> FailureProfile:
    found = profiles().get(name)
    if found is None:
        raise InvalidInput(f"unknown failure profile {name!r}", details={"profiles": sorted(profiles())})
    return found

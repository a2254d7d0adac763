"""The seeded fault injector: failures per component at published rates, with a repair time per action.

Used by tests, the demo, `neocloud bench health` and the simulator. It is pure: the caller passes the
seed, the nodes and the interval; nothing reads the clock or a global random source.

    injector = FaultInjector(LLAMA3_FAILURE_KINDS, seed=7)
    for failure in injector.failures(fleet.nodes, start, end):
        ...  # failure.node, failure.kind.component, failure.at, failure.repaired_at

Model. Each failure kind (faulty GPU, HBM3, software, ...) is a Poisson process whose rate is
`kind.per_gpu_day` times the GPUs in the fleet; a failure hits a node with probability proportional to
its GPUs. Every kind draws from its own stream (`Random(f"{seed}:{component}:{kind}")`) and its repair
times from another (`...:repair`), so changing one kind's rate, or adding a kind, never moves the
failures of the others (STYLE.md example 3). The rates and repair times are the figures of
`neocloud.kernel.reference` (REFERENCE.md "Failures"), never tuned to a result.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from typing import Protocol

from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.health import Component, HealthObservation, RecommendedAction, Severity
from neocloud.kernel.ids import NodeId

SECONDS_PER_DAY = 86_400


class Hardware(Protocol):
    """What the injector needs of a node (`neocloud.fleet.fleet.Node` fits)."""

    @property
    def id(self) -> NodeId: ...

    @property
    def gpus(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RepairTime:
    """A repair takes a duration drawn uniformly from [low_s, high_s] seconds."""

    low_s: int
    high_s: int

    def __post_init__(self) -> None:
        if not 0 <= self.low_s <= self.high_s:
            raise InvalidInput(f"repair time: need 0 <= low <= high, got {self.low_s}..{self.high_s}")

    @property
    def mean_s(self) -> float:
        return (self.low_s + self.high_s) / 2

    def draw(self, rng: Random) -> int:
        return self.low_s if self.low_s == self.high_s else rng.randint(self.low_s, self.high_s)


def repair_times() -> dict[RecommendedAction, RepairTime]:
    """Repair time per action from `kernel.reference` (REFERENCE.md "Failures", "SLAs and health")."""
    return {
        RecommendedAction(action): RepairTime(low, high)
        for action, (low, high) in ref.REPAIR_SECONDS_BY_ACTION.items()
    }


@dataclass(frozen=True, slots=True)
class FailureKind:
    """One row of a failure breakdown: how often (per GPU-day), what part, what code, what to do."""

    name: str
    component: Component
    per_gpu_day: float
    code: str
    action: RecommendedAction

    def __post_init__(self) -> None:
        if not (self.per_gpu_day >= 0 and math.isfinite(self.per_gpu_day)):
            raise InvalidInput(f"failure kind {self.name!r}: rate must be a finite number >= 0")


def llama3_failure_kinds() -> tuple[FailureKind, ...]:
    """The Llama 3 breakdown (16,384 H100, 54 days, 419 unexpected interruptions) as per-GPU-day rates.

    Each category's count over the GPU-days observed; the categories REFERENCE.md does not itemise
    (419 less the seven named) form "other". Component, code and action per kind are in
    `kernel.reference.LLAMA3_INTERRUPTIONS`."""
    gpu_days = ref.LLAMA3_GPUS * ref.LLAMA3_DAYS
    return tuple(
        FailureKind(name, Component(component), count / gpu_days, code, RecommendedAction(action))
        for name, (count, component, code, action) in ref.LLAMA3_INTERRUPTIONS.items()
    )


@dataclass(frozen=True, slots=True)
class Failure:
    """One failure: `node` fails at `at`; the repair its action calls for takes until `repaired_at`
    (the hands-on time; burn-in after it is the lifecycle's business)."""

    node: NodeId
    kind: FailureKind
    at: datetime
    repaired_at: datetime

    @property
    def component(self) -> Component:
        return self.kind.component

    @property
    def action(self) -> RecommendedAction:
        return self.kind.action

    @property
    def repair(self) -> timedelta:
        return self.repaired_at - self.at

    def observation(self) -> HealthObservation:
        """What a monitor would report: a critical event with the kind's code and recommended action."""
        return HealthObservation(
            node=self.node,
            component=self.kind.component,
            severity=Severity.CRITICAL,
            code=self.kind.code,
            action=self.kind.action,
            at=self.at,
            source="injector",
            message=self.kind.name,
        )


@dataclass(frozen=True)
class FaultInjector:
    """Seeded failures over a set of nodes and an interval. The same (kinds, seed, nodes, interval)
    always yields the same failures; `failures` is sorted by time, then node."""

    kinds: Sequence[FailureKind] = field(default_factory=llama3_failure_kinds)
    seed: int | str = 0
    repairs: Mapping[RecommendedAction, RepairTime] = field(default_factory=repair_times)

    def __post_init__(self) -> None:
        names = [k.name for k in self.kinds]
        if len(set(names)) != len(names):
            raise InvalidInput("failure kinds must have distinct names", details={"names": names})
        missing = sorted({k.action for k in self.kinds if k.per_gpu_day > 0} - set(self.repairs))
        if missing:
            raise InvalidInput("no repair time for some actions", details={"actions": missing})

    def rate_per_day(self, gpus: int) -> float:
        """Expected failures per day over `gpus` GPUs (all kinds)."""
        return gpus * sum(k.per_gpu_day for k in self.kinds)

    def failures(self, nodes: Iterable[Hardware], start: datetime, end: datetime) -> list[Failure]:
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput("the injector's interval must be timezone-aware")
        if end < start:
            raise InvalidInput("the injector's interval ends before it starts")
        targets = [(n.id, n.gpus) for n in nodes if n.gpus > 0]
        if not targets:
            return []
        cumulative = list(itertools.accumulate(g for _, g in targets))
        total_gpus = cumulative[-1]
        span_s = (end - start).total_seconds()
        out: list[Failure] = []
        for kind in self.kinds:
            if kind.per_gpu_day == 0:
                continue
            stream = f"{self.seed}:{kind.component.value}:{kind.name}"
            arrivals, repairs = Random(stream), Random(f"{stream}:repair")
            rate_per_s = kind.per_gpu_day * total_gpus / SECONDS_PER_DAY
            t = 0.0
            while True:
                t += arrivals.expovariate(rate_per_s)
                if t >= span_s:
                    break
                pick = bisect.bisect_right(cumulative, arrivals.randrange(total_gpus))
                at = start + timedelta(seconds=t)
                repair_s = self.repairs[kind.action].draw(repairs)
                out.append(Failure(targets[pick][0], kind, at, at + timedelta(seconds=repair_s)))
        out.sort(key=lambda f: (f.at, f.node, f.kind.name))
        return out


def job_mtbf_hours(kinds: Sequence[FailureKind], job_gpus: int) -> float:
    """Mean time between failures of a job spanning `job_gpus` GPUs, in hours, under these rates
    (any failure of any of its GPUs interrupts it)."""
    per_day = job_gpus * sum(k.per_gpu_day for k in kinds)
    return math.inf if per_day == 0 else 24.0 / per_day

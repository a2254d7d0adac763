"""The health benchmark: the fault injector at REFERENCE.md's rates on a live control plane (memory
store, virtual clock) with the fleet held 90 % reserved, for several spare settings side by side.

One run: build the preset, keep `spares` trays per NVLink domain (or nodes per SU) as spares, reserve
90 % of the domains for the whole span (one reservation per domain, `one-nvl72` of its sellable trays),
then play the injector's failures in time order through `HealthService.observe`; the operator starts
every repair at once and it ends when the injector says (hot-spare swap, part on site or RMA times from
REFERENCE.md, never tuned). Reported per run (medians over `repeats` seeds):
- interruptions: failures that hit a node holding reserved work;
- mean time to remediate: from such a failure until the reservation has all its GPUs again (a swap to a
  spare or another domain, or the node back from repair and burn-in; still open at the end: to the end);
- availability per reservation over the span (p50, min), by the SLA's rule (a domain short counts all);
- SLA credits as % of the reservations' revenue (the default schedule);
- spare utilisation: the time-average share of the configured spare trays in use (consumed by a swap
  and not yet refilled by a repaired node), sampled hourly.

The failure rates are a `FailureProfile` (`llama3` by default, `rsc1` for Meta's research cluster);
the injector's calibration against each profile's published figures is `bench/health_calibration.py`.
"""

from __future__ import annotations

import math
import secrets
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from neocloud.bootstrap import MEMORY, Settings, build_services, manual_clock
from neocloud.control.app.views import ReservationRequest, ReservationView
from neocloud.control.domain.tenancy import Role
from neocloud.fleet import presets
from neocloud.fleet.fleet import Node
from neocloud.health.app.deps import HealthSettings, SpareSettings
from neocloud.health.domain.injector import FaultInjector
from neocloud.health.domain.lifecycle import NodeState
from neocloud.health.domain.profiles import profile as failure_profile
from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import CATALOG
from neocloud.kernel.health import RecommendedAction
from neocloud.kernel.ids import AllocationId
from neocloud.kernel.periods import Period

START = datetime(2026, 1, 1, tzinfo=UTC)
RESERVED_SHARE = 0.9
SPARES_COMPARED = (0, 1, 2)
SAMPLE = timedelta(hours=1)  # how often spare use is sampled (and timed steps move on)


@dataclass(frozen=True, slots=True)
class RunFigures:
    spares_per_rack: int
    availability_p50: float
    availability_min: float
    interruptions: int
    mttr_minutes: float
    credits_pct_of_revenue: float
    spare_utilisation_pct: float
    reservations: int
    failures: int
    below_target: int

    def to_json(self) -> dict[str, Any]:
        return {
            "spares_per_rack": self.spares_per_rack,
            "availability_pct": {"p50": self.availability_p50, "min": self.availability_min},
            "interruptions": self.interruptions,
            "mttr_minutes": self.mttr_minutes,
            "credits_pct_of_revenue": self.credits_pct_of_revenue,
            "spare_utilisation_pct": self.spare_utilisation_pct,
        }


def _domain_groups(nodes: list[Node]) -> dict[str, list[Node]]:
    groups: dict[str, list[Node]] = {}
    for n in nodes:
        model = CATALOG[n.model]
        key = n.nvlink if model.nvlink_domain > model.gpus_per_node else f"{n.fabric}/{n.su}"
        groups.setdefault(key, []).append(n)
    return groups


def run_once(preset: str, days: int, spares: int, seed: int, profile: str = "llama3") -> RunFigures:
    fleet = presets.build(preset)
    end = START + timedelta(days=days)
    clock = manual_clock(START)
    health_settings = HealthSettings(spares=SpareSettings(nvl72_trays=spares, hgx_per_su=spares))
    services = build_services(
        Settings(database_url=MEMORY, default_quota_gpus=None, health=health_settings),
        clock=clock,
        ids=CountingIds(seed),
    )
    control, health = services.control, services.health
    assert health is not None
    control.fleet.import_fleet(fleet)
    health.sync()
    _, op_secret = control.tenancy.create_token(None, Role.OPERATOR)
    operator = control.tenancy.authenticate(op_secret)
    groups = _domain_groups(list(fleet.nodes))
    reserved = math.ceil(RESERVED_SHARE * len(groups))
    rack_scale = all(CATALOG[n.model].nvlink_domain > CATALOG[n.model].gpus_per_node for n in fleet.nodes)
    reservations: list[ReservationView] = []
    for i, members in enumerate(list(groups.values())[:reserved]):
        name = f"tenant-{i:03d}"
        control.tenancy.create_tenant(name)
        _, secret = control.tenancy.create_token(name, Role.TENANT_ADMIN)
        tenant = control.tenancy.authenticate(secret)
        per_node = members[0].gpus
        sellable = (len(members) - spares) * per_node
        shape = "one-nvl72" if rack_scale else "one-fabric"
        request = ReservationRequest(members[0].model, sellable, days * 24, START, shape)
        reservations.append(control.reservations.reserve(tenant, request))
    control.reconcile()

    failures = FaultInjector(failure_profile(profile).kinds, seed).failures(fleet.nodes, START, end)
    configured = sum(min(spares, len(m)) for m in groups.values())
    deficit_s = 0.0  # spare-slot seconds in use: configured spares minus those standing by, over time
    last = START

    def sample(now: datetime) -> None:
        nonlocal deficit_s, last
        standing = health.spares_standing()
        deficit_s += max(0, configured - standing) * (now - last).total_seconds()
        last = now

    def advance_to(at: datetime) -> None:
        step = last + SAMPLE
        while step < at:
            clock.set(step)
            health.tick()
            sample(step)
            step += SAMPLE
        clock.set(at)
        health.tick()

    interruptions = 0
    for f in failures:
        advance_to(f.at)
        hit = bool(control.nodes.holders(f.node, f.at))
        outcome = health.observe(f.observation())
        if outcome.decision != "quarantine":
            continue
        interruptions += hit
        until = max(f.repaired_at, f.at + timedelta(seconds=1))
        health.repair(operator, f.node, f.action, f"injected {f.kind.name}", until=until)
    advance_to(end)
    sample(end)

    period = Period(START, end)
    report = health.sla.report(operator, period)
    lines = [x for x in report.lines if x.allocation in {r.id for r in reservations}]
    avail = sorted(float(x.availability * 100) for x in lines)
    revenue = sum(Fraction(x.charge) for x in lines)
    credited = sum(Fraction(x.credit) for x in lines)
    outages = [o for r in reservations for o in health.outages(operator, AllocationId(r.id))]
    spans = [((o.end or end) - o.start).total_seconds() / 60 for o in outages]
    held = configured * (end - START).total_seconds()
    return RunFigures(
        spares,
        round(statistics.median(avail), 4) if avail else 100.0,
        round(avail[0], 4) if avail else 100.0,
        interruptions,
        round(statistics.fmean(spans), 1) if spans else 0.0,
        round(float(credited / revenue * 100), 4) if revenue else 0.0,
        round(100 * deficit_s / held, 2) if held else 0.0,
        len(lines),
        len(failures),
        sum(1 for a in avail if a < float(ref.SLA_DEFAULT_TARGET_PCT)),
    )


def _median_run(runs: list[RunFigures]) -> RunFigures:
    def med(xs: list[float]) -> float:
        return round(statistics.median(xs), 4)

    return RunFigures(
        runs[0].spares_per_rack,
        med([r.availability_p50 for r in runs]),
        med([r.availability_min for r in runs]),
        int(statistics.median([r.interruptions for r in runs])),
        med([r.mttr_minutes for r in runs]),
        med([r.credits_pct_of_revenue for r in runs]),
        med([r.spare_utilisation_pct for r in runs]),
        runs[0].reservations,
        int(statistics.median([r.failures for r in runs])),
        int(statistics.median([r.below_target for r in runs])),
    )


def run(
    preset: str, days: int, spares: int, seed: int, repeats: int, profile: str = "llama3"
) -> tuple[int, list[RunFigures]]:
    """The default `spares` and 0/1/2 side by side: medians over seeds seed..seed+repeats-1."""
    if not 1 <= days <= 366 or spares < 0 or not 1 <= repeats <= 50:
        raise InvalidInput("need 1 <= days <= 366, spares >= 0, 1 <= repeats <= 50")
    failure_profile(profile)  # an unknown name is bad input before any run
    out = []
    for n in sorted({*SPARES_COMPARED, spares}):
        out.append(_median_run([run_once(preset, days, n, seed + i, profile) for i in range(repeats)]))
    return spares, out


def to_json(default: int, runs: list[RunFigures]) -> dict[str, Any]:
    return {"default_spares_per_rack": default, "runs": [r.to_json() for r in runs]}


class CountingIds:
    """Ids numbered in order (so a run's placements, which seed on ids, repeat exactly); the secrets are
    still random: they are tokens."""

    def __init__(self, seed: int) -> None:
        self._n = 0
        self._seed = seed

    def new_id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._seed}x{self._n:08d}"

    def secret(self) -> str:
        return secrets.token_urlsafe(32)


__all__ = ["NodeState", "RecommendedAction", "RunFigures", "run", "to_json"]

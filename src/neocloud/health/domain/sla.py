"""SLA terms as data, and the arithmetic of availability and credits.

Availability of an allocation over a period = delivered healthy GPU-seconds / committed GPU-seconds,
both within the period and the allocation's own window. An outage is a span during which some of the
allocation's GPUs were not delivered (its node failed and no replacement was in place yet). For a shape
that promises a whole domain (whole-nvl72, one-nvl72, one-fabric) every GPU of the allocation counts as
unavailable while any outage lasts: a domain short of what was promised is not the domain sold.
Exact arithmetic (Fraction): a replay of the same outages always yields the same credit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.ids import AllocationId, NodeId, TenantId
from neocloud.kernel.money import CURRENCY_EXPONENT, Money, round_half_even
from neocloud.kernel.periods import require_utc

DOMAIN_SHAPES: frozenset[str] = frozenset({"whole-nvl72", "one-nvl72", "one-fabric"})


@dataclass(frozen=True, slots=True)
class CreditTier:
    """Below `below_pct` availability, credit `credit_share` of the period's charge."""

    below_pct: Decimal
    credit_share: Decimal


@dataclass(frozen=True, slots=True)
class SlaTerms:
    """An availability target and a credit schedule. The deepest tier that applies wins; credits are
    capped at the period's charge (REFERENCE.md "SLAs and health")."""

    name: str
    target_pct: Decimal
    tiers: tuple[CreditTier, ...]

    def __post_init__(self) -> None:
        shares = [t.credit_share for t in self.tiers]
        if any(not Decimal(0) < s <= Decimal(1) for s in shares):
            raise InvalidInput("SLA credit shares must be in (0, 1]")
        if any(not Decimal(0) < t.below_pct <= Decimal(100) for t in self.tiers):
            raise InvalidInput("SLA tiers' availability must be in (0, 100]")

    @staticmethod
    def default() -> SlaTerms:
        """The published schedule in REFERENCE.md (Nebius Managed Kubernetes): 10 % below 99.9 %, 25 %
        below 95 %."""
        return SlaTerms(
            "default",
            Decimal(ref.SLA_DEFAULT_TARGET_PCT),
            tuple(CreditTier(Decimal(b), Decimal(s)) for b, s in ref.SLA_DEFAULT_CREDIT_TIERS),
        )

    def credit_share(self, availability: Fraction) -> Decimal:
        """The share of the charge credited at `availability` (a fraction in [0, 1])."""
        pct = availability * 100
        applicable = [t.credit_share for t in self.tiers if pct < Fraction(t.below_pct)]
        return max(applicable, default=Decimal(0))


@dataclass(frozen=True, slots=True)
class Outage:
    """`gpus` of `allocation`'s GPUs on `node` were not delivered over [start, end) (end None: still)."""

    allocation: AllocationId
    tenant: TenantId
    node: NodeId
    gpus: int
    start: datetime
    end: datetime | None = None
    shape: str = ""

    def __post_init__(self) -> None:
        require_utc(self.start, "start")
        if self.end is not None and require_utc(self.end, "end") < self.start:
            raise InvalidInput("an outage ends after it starts")


def _clip(start: datetime, end: datetime, lo: datetime, hi: datetime) -> tuple[datetime, datetime] | None:
    s, e = max(start, lo), min(end, hi)
    return (s, e) if e > s else None


def _union_seconds(spans: Iterable[tuple[datetime, datetime]]) -> Fraction:
    total = Fraction(0)
    cur: tuple[datetime, datetime] | None = None
    for s, e in sorted(spans):
        if cur is None or s > cur[1]:
            if cur is not None:
                total += Fraction((cur[1] - cur[0]).total_seconds())
            cur = (s, e)
        else:
            cur = (cur[0], max(cur[1], e))
    if cur is not None:
        total += Fraction((cur[1] - cur[0]).total_seconds())
    return total


@dataclass(frozen=True, slots=True)
class Availability:
    committed_gpu_seconds: Fraction
    lost_gpu_seconds: Fraction

    @property
    def fraction(self) -> Fraction:
        if self.committed_gpu_seconds == 0:
            return Fraction(1)
        return 1 - self.lost_gpu_seconds / self.committed_gpu_seconds

    @property
    def pct(self) -> float:
        return float(self.fraction * 100)


def availability(
    gpus: int,
    shape: str,
    window: tuple[datetime, datetime],
    period: tuple[datetime, datetime],
    outages: Sequence[Outage],
) -> Availability:
    """Committed and lost GPU-seconds of an allocation of `gpus` GPUs held over `window`, within
    `period`; open outages last to the end of both."""
    span = _clip(window[0], window[1], period[0], period[1])
    if span is None:
        return Availability(Fraction(0), Fraction(0))
    committed = gpus * Fraction((span[1] - span[0]).total_seconds())
    spans: dict[tuple[NodeId, int], list[tuple[datetime, datetime]]] = {}
    for o in outages:
        c = _clip(o.start, o.end if o.end is not None else span[1], span[0], span[1])
        if c is not None:
            spans.setdefault((o.node, o.gpus), []).append(c)
    if shape in DOMAIN_SHAPES:
        lost = gpus * _union_seconds(c for cs in spans.values() for c in cs)
    else:
        lost = sum((g * _union_seconds(cs) for (_, g), cs in spans.items()), Fraction(0))
    return Availability(committed, min(lost, committed))


def credit(charge: Money, share: Decimal) -> Money:
    """`share` of the charge, by the platform's one rounding rule, capped at the charge."""
    scale = 10 ** CURRENCY_EXPONENT[charge.currency]
    raw = round_half_even(Fraction(share) * Fraction(charge.minor, scale), charge.currency)
    return Money(max(0, min(charge.minor, raw.minor)), charge.currency)

"""GPU-second accounting and the SLA credit rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from neocloud.sim.accounting import ConservationError, Levels
from neocloud.sim.sla import credit_share

TIERS = ((0.999, Decimal("0.10")), (0.95, Decimal("0.25")))


def test_levels_integrate_each_state() -> None:
    lv = Levels(10)
    lv.add(0, 0, 4)  # 4 reserved from t=0
    lv.add(10, 1, 2)  # 2 on-demand from t=10
    lv.fail(20, 1)  # 1 unhealthy from t=20
    lv.advance(30)
    assert lv.alloc_s == [120.0, 40.0, 0.0]
    assert lv.unhealthy_s == 10.0
    assert lv.idle_s == 300 - 120 - 40 - 10


def test_levels_refuse_to_overcommit_or_go_negative() -> None:
    lv = Levels(8)
    lv.add(0, 2, 8)
    with pytest.raises(ConservationError):
        lv.fail(1, 1)
    with pytest.raises(ConservationError):
        Levels(8).add(0, 1, -1)


@pytest.mark.parametrize(
    ("availability", "share"),
    [
        (1.0, "0"),
        (0.9995, "0"),
        (0.999, "0"),
        (0.9989, "0.10"),
        (0.96, "0.10"),
        (0.9499, "0.25"),
        (0.0, "0.25"),
    ],
)
def test_the_deepest_tier_applies(availability: float, share: str) -> None:
    assert credit_share(availability, TIERS) == Decimal(share)


def test_the_reference_tiers_credit_nothing_at_exactly_the_target() -> None:
    from neocloud.kernel import reference as ref
    from neocloud.sim.scenarios import Sla

    assert credit_share(0.999, Sla().tiers) == 0
    assert credit_share(ref.SLA_TARGET - 1e-9, Sla().tiers) == Decimal("0.10")

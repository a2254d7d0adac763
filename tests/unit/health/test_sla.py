"""SLA arithmetic: availability per allocation, the credit schedule, rounding and caps; webhook
signatures and backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from neocloud.health.domain.sla import Outage, SlaTerms, availability, credit
from neocloud.health.domain.webhooks import MAX_ATTEMPTS, Delivery, DeliveryStatus, backoff, sign, verify
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.ids import AllocationId, NodeId, TenantId
from neocloud.kernel.money import Money

T0 = datetime(2026, 5, 1, tzinfo=UTC)
DAY = (T0, T0 + timedelta(days=1))
MONTH = (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))


def out(node: str, gpus: int, start_min: int, end_min: int | None, shape: str = "") -> Outage:
    end = T0 + timedelta(minutes=end_min) if end_min is not None else None
    return Outage(
        AllocationId("a"), TenantId("t"), NodeId(node), gpus, T0 + timedelta(minutes=start_min), end, shape
    )


def test_the_default_schedule_is_the_published_one() -> None:
    terms = SlaTerms.default()
    assert terms.target_pct == Decimal("99.9")
    assert terms.credit_share(Fraction(999, 1000)) == 0
    assert terms.credit_share(Fraction(9989, 10000)) == Decimal("0.10")
    assert terms.credit_share(Fraction(95, 100)) == Decimal("0.10")
    assert terms.credit_share(Fraction(9499, 10000)) == Decimal("0.25")


def test_a_domain_shape_loses_all_its_gpus_while_any_node_is_short_overlaps_counted_once() -> None:
    outages = [out("n1", 4, 0, 60, "whole-nvl72"), out("n2", 4, 30, 90, "whole-nvl72")]
    a = availability(72, "whole-nvl72", DAY, MONTH, outages)
    assert a.lost_gpu_seconds == 72 * 90 * 60
    assert a.fraction == 1 - Fraction(90, 24 * 60)


def test_other_shapes_lose_only_the_failed_gpus() -> None:
    a = availability(16, "whole-nodes", DAY, MONTH, [out("n1", 8, 0, 60), out("n1", 8, 30, 90)])
    assert a.lost_gpu_seconds == 8 * 90 * 60 and a.committed_gpu_seconds == 16 * 86400


def test_outages_are_clipped_to_the_window_and_the_period_and_open_ones_run_to_the_end() -> None:
    a = availability(8, "any", (T0, T0 + timedelta(hours=2)), MONTH, [out("n1", 8, -60, None)])
    assert a.fraction == 0
    before = availability(
        8, "any", DAY, (T0 + timedelta(days=2), T0 + timedelta(days=3)), [out("n1", 8, 0, 10)]
    )
    assert before.committed_gpu_seconds == 0 and before.fraction == 1


def test_credit_rounds_half_even_once_and_never_exceeds_the_charge() -> None:
    assert credit(Money(1005, "USD"), Decimal("0.10")) == Money(100, "USD")  # 100.5 → 100
    assert credit(Money(1015, "USD"), Decimal("0.10")) == Money(102, "USD")  # 101.5 → 102
    assert credit(Money(0, "USD"), Decimal("0.25")) == Money(0, "USD")
    with pytest.raises(InvalidInput):
        SlaTerms("bad", Decimal(99), (SlaTerms.default().tiers[0].__class__(Decimal(99), Decimal(2)),))


def test_a_signature_verifies_only_its_body_and_secret() -> None:
    header = sign("s3cret", 1_700_000_000, b'{"a":1}')
    assert verify("s3cret", header, b'{"a":1}')
    assert not verify("other", header, b'{"a":1}')
    assert not verify("s3cret", header, b'{"a":2}')
    assert not verify("s3cret", "garbage", b'{"a":1}')


def test_backoff_doubles_to_an_hour_and_gives_up_after_the_last_attempt() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
    ]
    assert backoff(20) == timedelta(hours=1)
    d = Delivery(1, "w", 1, TenantId("t"), DeliveryStatus.PENDING, 0, T0)
    for _ in range(MAX_ATTEMPTS):
        d = d.after(T0, 500, "boom")
    assert d.status is DeliveryStatus.FAILED and d.next_at is None
    ok = Delivery(1, "w", 1, TenantId("t"), DeliveryStatus.PENDING, 3, T0).after(T0, 204, "")
    assert ok.status is DeliveryStatus.DELIVERED and ok.delivered_at == T0

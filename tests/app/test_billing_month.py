"""A simulated October: hundreds of allocations across products, a clock moved hour by hour, metering
every six hours, spot prices changed by the operator, then finalize and reconcile. The expected bill is
worked out here from the stories themselves, not by calling the billing code."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from neocloud.kernel import reference as ref
from neocloud.kernel.periods import Period
from tests.builders import billing, event

OCT = Period.month(2026, 10)
START = datetime(2026, 9, 20, tzinfo=UTC)
END = datetime(2026, 11, 1, 1, tzinfo=UTC)
MODELS = ("H100", "H200", "B200", "GB200")
SPOT_STEP = timedelta(hours=6)


def spot_h100(step: int) -> Decimal:
    return Decimal("2.00") + Decimal("0.01") * (step % 7)


@dataclass
class Story:
    name: str
    tenant: str
    product: str
    model: str
    gpus: int
    events: list = field(default_factory=list)
    billed: tuple[datetime, datetime] | None = None  # what the billing rules say, by hand


def minute(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    return lo + timedelta(minutes=rng.randrange(int((hi - lo).total_seconds() // 60)))


def story(rng: random.Random, i: int) -> Story:
    tenant = f"t{rng.randrange(12)}"
    product = rng.choices(["on-demand", "spot", "reserved"], weights=[2, 1, 1])[0]
    s = Story(f"a{i}", tenant, product, rng.choice(MODELS), rng.choice([1, 2, 4, 8]))
    kw = {
        "tenant": tenant,
        "project": f"{tenant}-p{rng.randrange(3)}",
        "product": product,
        "model": s.model,
        "gpus": s.gpus,
    }
    if product == "reserved":
        booked = minute(rng, START, datetime(2026, 10, 25, tzinfo=UTC))
        ws = booked + timedelta(hours=rng.randrange(72))
        we = ws + timedelta(days=rng.randrange(1, 15))
        s.events.append(event(s.name, "scheduled", booked, window=(ws, we), term=1, **kw))
        s.billed = (ws, we)
        fate = rng.random()
        if fate < 0.2:  # extended while running
            when = minute(rng, ws, we)
            we = we + timedelta(days=rng.randrange(1, 6))
            s.events.append(event(s.name, "active", when, window=(ws, we), term=1, **kw))
            s.billed = (ws, we)
        elif fate < 0.35:  # cancelled before the window starts
            s.events.append(event(s.name, "cancelled", minute(rng, booked, ws + timedelta(minutes=1)), **kw))
            s.billed = None if s.events[-1].at < ws else s.billed
        elif fate < 0.45:  # cancelled after it started: the window stays billed
            s.events.append(event(s.name, "cancelled", minute(rng, ws, we), **kw))
        return s
    begin = minute(rng, datetime(2026, 9, 25, tzinfo=UTC), datetime(2026, 10, 31, 23, tzinfo=UTC))
    active = begin + timedelta(minutes=rng.randrange(30))
    s.events.append(event(s.name, "requested", begin, **kw))
    fate = rng.random()
    if fate < 0.1:
        s.events.append(event(s.name, "cancelled", active, **kw))
        return s
    s.events.append(event(s.name, "active", active, **kw))
    stop = active + timedelta(minutes=rng.randrange(10, 10 * 24 * 60))
    if fate < 0.2:  # still running when the month closes
        s.billed = (active, END)
        return s
    if stop > END:
        stop = END - timedelta(minutes=1)
    state = "preempted" if product == "spot" and fate < 0.5 else rng.choice(["ended", "ended", "failed"])
    if state == "ended":
        s.events.append(
            event(
                s.name,
                "ending",
                stop - timedelta(minutes=1) if stop - timedelta(minutes=1) > active else stop,
                **kw,
            )
        )
    s.events.append(event(s.name, state, stop, **kw))
    s.billed = (active, stop)
    return s


def unit_price(s: Story, at: datetime) -> Decimal:
    list_price = Decimal(ref.LIST_PRICE_USD_PER_GPU_HOUR[s.model])
    if s.product == "on-demand":
        return list_price
    if s.product == "reserved":
        return list_price * Decimal(ref.RESERVED_SHARE_BY_TERM_MONTHS[1])
    if s.model == "H100":
        return spot_h100(int((at - START) / SPOT_STEP))
    published = ref.SPOT_PRICE_USD_PER_GPU_HOUR.get(s.model)
    return Decimal(published) if published else list_price * Decimal(ref.SPOT_SHARE_OF_ON_DEMAND_ESTIMATE)


def expected_october(stories: list[Story]) -> tuple[dict[str, int], dict[str, Fraction]]:
    """Per tenant: GPU-seconds inside October, and the bill (before rounding per line group)."""
    seconds: dict[str, int] = {}
    groups: dict[tuple[str, str, str, Decimal], int] = {}
    for s in stories:
        if s.billed is None:
            continue
        lo, hi = max(s.billed[0], OCT.start), min(s.billed[1], OCT.end)
        t = lo
        while t < hi:  # walk the spot blocks (prices are constant inside a block)
            block_end = min(hi, START + SPOT_STEP * (int((t - START) / SPOT_STEP) + 1))
            n = int((block_end - t).total_seconds()) * s.gpus
            seconds[s.tenant] = seconds.get(s.tenant, 0) + n
            key = (s.tenant, s.product, s.model, unit_price(s, t))
            groups[key] = groups.get(key, 0) + n
            t = block_end
    bills: dict[str, Fraction] = {}
    for (tenant, _product, _model, price), n in groups.items():
        bills[tenant] = bills.get(tenant, Fraction(0)) + Fraction(
            round(Fraction(price) * n / 3600 * 100), 100
        )
    return seconds, bills


@pytest.fixture(scope="module")
def month():
    rng = random.Random("billing-month:7")
    stories = [story(rng, i) for i in range(300)]
    pending = sorted((e for s in stories for e in s.events), key=lambda e: e.at)
    rig = billing(START)
    step = 0
    while rig.clock.now() < END:
        now = rig.clock.now()
        due = [e for e in pending if e.at <= now]
        pending = pending[len(due) :]
        rig.log.extend(due)
        if (now - START) % SPOT_STEP == timedelta(0):
            rig.service.set_price(model="H100", product="spot", price=str(spot_h100(step)), currency="USD")
            step += 1
            rig.service.meter()
        rig.clock.advance(timedelta(hours=1))
    rig.log.extend(pending)
    invoices = rig.service.finalize(OCT)
    return rig, stories, invoices


def test_the_simulation_covers_every_kind_of_story(month):
    _, stories, _ = month
    states = {e.to_state.value for s in stories for e in s.events}
    assert {"preempted", "cancelled", "failed", "ended", "ending"} <= states
    assert any(
        len({(e.window_start, e.window_end) for e in s.events}) > 1
        for s in stories
        if s.product == "reserved"
    )


def test_reconcile_finds_no_difference(month):
    rig, _, _ = month
    report = rig.service.reconcile(OCT)
    assert report.differences == []
    assert report.allocations_milli == report.ledger_milli == report.invoiced_milli > 0


def test_ledger_seconds_match_the_stories(month):
    rig, stories, _ = month
    seconds, _ = expected_october(stories)
    ledger: dict[str, int] = {}
    for entry in rig.store.usage(period=OCT):
        ledger[entry.tenant_id] = (
            ledger.get(entry.tenant_id, 0)
            + entry.clipped_gpu_time(OCT.start, OCT.end).milli_gpu_seconds // 1000
        )
    assert ledger == seconds


def test_invoices_match_totals_worked_out_independently(month):
    _, stories, invoices = month
    _, bills = expected_october(stories)
    assert {i.tenant_id: Fraction(i.total.minor, 100) for i in invoices} == bills


def test_metering_again_after_the_month_changes_nothing(month):
    rig, _, _ = month
    assert rig.service.meter().entries_added == 0

"""Invariants of the ledger: no gaps, no overlaps, exact seconds, idempotent replay, periods conserve."""

import itertools
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.billing.domain.metering import coverage, meter
from neocloud.billing.domain.pricing import RESERVED_TERMS_MONTHS
from neocloud.kernel.periods import Period
from tests.builders import at, event

HOUR = 3600
HORIZON_S = 70 * 86_400


@dataclass
class Story:
    """One allocation's events and, written out by hand, the seconds it must bill."""

    events: list
    expected: tuple[int, int] | None  # offsets from T0 in seconds


@st.composite
def stories(draw, name: str) -> Story:
    product = draw(st.sampled_from(["on-demand", "spot", "reserved"]))
    begin = draw(st.integers(0, 40 * 86_400))
    kw = {"product": product, "gpus": draw(st.sampled_from([1, 4, 8]))}
    if product == "reserved":
        ws = begin + draw(st.integers(0, 5 * 86_400))
        we = ws + draw(st.integers(1, 20 * 86_400))
        events = [event(name, "scheduled", at(seconds=begin), window=(at(seconds=ws), at(seconds=we)), **kw)]
        if draw(st.booleans()):  # extend before the window ends
            new_end = we + draw(st.integers(1, 5 * 86_400))
            when = draw(st.integers(begin, we - 1))
            events.append(
                event(name, "active", at(seconds=when), window=(at(seconds=ws), at(seconds=new_end)), **kw)
            )
            we = new_end
            begin = when
        expected: tuple[int, int] | None = (ws, we)
        if draw(st.booleans()):
            stop = draw(st.integers(begin, HORIZON_S - 1))
            events.append(
                event(name, draw(st.sampled_from(["cancelled", "ended", "failed"])), at(seconds=stop), **kw)
            )
            if stop < ws:
                expected = None
        return Story(events, expected)
    active = begin + draw(st.integers(0, HOUR))
    events = [
        event(name, "requested", at(seconds=begin), **kw),
        event(name, "active", at(seconds=active), **kw),
    ]
    end = None
    if draw(st.booleans()):
        end = active + draw(st.integers(0, 25 * 86_400))
        state = draw(st.sampled_from(["ended", "preempted", "failed", "cancelled"]))
        events.append(event(name, state, at(seconds=end), **kw))
    return Story(events, (active, end if end is not None else HORIZON_S))


many_stories = st.integers(1, 6).flatmap(lambda n: st.tuples(*[stories(f"a{i}") for i in range(n)]))
grids = st.sampled_from([900, 3600, 86_400])


def metered_in_steps(events, untils, grid):
    ledger: dict = {}
    for until in untils:
        for entry in meter(
            events,
            coverage(e for v in ledger.values() for e in v),
            until,
            terms=RESERVED_TERMS_MONTHS,
            grid_seconds=grid,
        ).entries:
            ledger.setdefault(entry.allocation_id, []).append(entry)
    return ledger


@settings(max_examples=40, deadline=None)
@given(many_stories, st.lists(st.integers(0, HORIZON_S), max_size=6), grids)
def test_ledger_has_no_gap_no_overlap_and_exact_seconds(stories, steps, grid):
    events = [e for s in stories for e in s.events]
    untils = [at(seconds=s) for s in sorted(steps)] + [at(seconds=HORIZON_S)]
    ledger = metered_in_steps(events, untils, grid)
    for i, story in enumerate(stories):
        entries = sorted(ledger.get(f"a{i}", []), key=lambda e: e.start)
        if story.expected is None or story.expected[0] == story.expected[1]:
            assert entries == []
            continue
        assert entries[0].start == at(seconds=story.expected[0])
        assert entries[-1].end == at(seconds=story.expected[1])
        for before, after in itertools.pairwise(entries):
            assert before.end == after.start  # neither gap nor overlap
        for entry in entries:  # never across a grid edge
            assert (entry.end - entry.start).total_seconds() <= grid


@settings(max_examples=40, deadline=None)
@given(many_stories, st.lists(st.integers(0, HORIZON_S), max_size=6), grids)
def test_replay_changes_nothing(stories, steps, grid):
    events = [e for s in stories for e in s.events]
    untils = [at(seconds=s) for s in sorted(steps)] + [at(seconds=HORIZON_S)]
    ledger = metered_in_steps(events, untils, grid)
    again = meter(
        events,
        coverage(e for v in ledger.values() for e in v),
        untils[-1],
        terms=RESERVED_TERMS_MONTHS,
        grid_seconds=grid,
    )
    assert again.entries == []


@settings(max_examples=40, deadline=None)
@given(many_stories, st.lists(st.integers(0, HORIZON_S), max_size=6))
def test_metering_in_steps_bills_the_same_seconds_as_at_once(stories, steps):
    events = [e for s in stories for e in s.events]
    final = at(seconds=HORIZON_S)
    stepwise = metered_in_steps(events, [at(seconds=s) for s in sorted(steps)] + [final], 86_400)
    at_once = metered_in_steps(events, [final], 86_400)
    total = lambda ledger: sum(e.gpu_time.milli_gpu_seconds for v in ledger.values() for e in v)  # noqa: E731
    assert total(stepwise) == total(at_once)


@settings(max_examples=40, deadline=None)
@given(many_stories, st.integers(1, 86_400 * 3))
def test_splitting_into_periods_conserves_seconds(stories, offset):
    events = [e for s in stories for e in s.events]
    ledger = metered_in_steps(events, [at(seconds=HORIZON_S)], 86_400)
    entries = [e for v in ledger.values() for e in v]
    whole = sum(e.gpu_time.milli_gpu_seconds for e in entries)
    cut = at(seconds=offset) - timedelta(days=1)
    periods = [Period(at(days=-1), cut), Period(cut, at(days=40)), Period(at(days=40), at(days=200))]
    assert (
        sum(e.clipped_gpu_time(p.start, p.end).milli_gpu_seconds for p in periods for e in entries) == whole
    )

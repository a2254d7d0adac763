"""Billing's memory feed reads the control plane's event log directly and meters from a cursor (only the
allocations not metered to their end): both must give what the generic feed, which pages through every
allocation of the UnitOfWork port and re-reads the whole history each pass, gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from neocloud.billing.adapters.control_events import ControlEventFeed, EventLog
from neocloud.billing.app.ports import MeteringCursor
from neocloud.bootstrap import MEMORY, Settings, build_billing, manual_clock
from neocloud.sim.exact import ExactEngine
from neocloud.sim.model import Model
from neocloud.sim.scenarios import preset


class PortOnly:
    """A unit of work with the UnitOfWork port's methods only (the feed cannot read the log directly)."""

    def __init__(self, uow: Any) -> None:
        self._uow = uow

    def __enter__(self) -> PortOnly:
        self._uow.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._uow.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        if name == "events_after":
            raise AttributeError(name)
        return getattr(self._uow, name)


class Generic:
    """The generic feed, as a plain LifecycleEventSource (no cursor)."""

    def __init__(self, store: Any) -> None:
        self._feed = ControlEventFeed(lambda: PortOnly(store()))

    def lifecycle_events(self, until: Any, tenant: Any = None) -> Any:
        return self._feed.lifecycle_events(until, tenant)


@pytest.fixture(scope="module")
def run() -> ExactEngine:
    s = preset("tiny")
    s = replace(s, failures=replace(s.failures, per_gpu_day=0.02)).with_days(4)
    engine = ExactEngine(Model(s, 3))
    engine.run()
    return engine


def test_the_generic_feed_is_what_the_test_compares_against(run: ExactEngine) -> None:
    with PortOnly(run.store()) as uow:
        assert not isinstance(uow, EventLog)
    assert isinstance(run.billing.events, MeteringCursor) and not isinstance(
        Generic(run.store), MeteringCursor
    )


def test_the_log_gives_the_same_events_as_paging_through_every_allocation(run: ExactEngine) -> None:
    until = run.clock.now()
    direct, generic = ControlEventFeed(run.store), Generic(run.store)
    everything = direct.lifecycle_events(until)
    assert len(everything) > 50 and everything == generic.lifecycle_events(until)
    for tenant in run.tenants.values():
        assert direct.lifecycle_events(until, tenant) == generic.lifecycle_events(until, tenant)
    middle = run.m.at(run.m.horizon / 2)
    assert direct.lifecycle_events(middle) == generic.lifecycle_events(middle)


def test_metering_from_the_cursor_writes_the_ledger_a_full_reread_writes(run: ExactEngine) -> None:
    passes = [t for t, op, _ in run.calls.items if op in ("meter", "meter_until_horizon")]
    assert len(passes) >= 3
    clock = manual_clock(run.m.scenario.start)
    settings = Settings(database_url=MEMORY)
    full = build_billing(settings, run.store, None, clock, events=Generic(run.store))
    cursor = build_billing(settings, run.store, None, clock)
    assert isinstance(cursor.events, MeteringCursor)
    for t in passes:
        clock.set(run.m.at(t))
        for billing in (full, cursor):
            billing.meter() if t < run.m.horizon else billing.meter(until=clock.now())
        ledger = sorted(cursor.store.usage(), key=lambda e: e.id)
        assert ledger == sorted(full.store.usage(), key=lambda e: e.id)
    assert ledger == sorted(run.billing.store.usage(), key=lambda e: e.id)  # and what the run wrote


def test_the_cursor_leaves_out_allocations_metered_to_their_end(run: ExactEngine) -> None:
    feed = ControlEventFeed(run.store)
    until = run.m.at(run.m.horizon)
    events, done = feed.unmetered_events(until)
    assert done and {e.allocation_id for e in events} >= set(done)
    again, _ = feed.unmetered_events(until)
    assert again == events  # nothing is left out before `metered` says the ledger holds it
    feed.metered(done)
    later, _ = feed.unmetered_events(until + timedelta(days=1))
    assert not {e.allocation_id for e in later} & set(done)


def test_a_reservation_whose_window_moved_is_converted_anew(run: ExactEngine) -> None:
    """The feed keeps its conversions; one made before a reservation's end moved is not given after."""
    until = run.clock.now()
    direct = ControlEventFeed(run.store)
    before = direct.lifecycle_events(until)
    reserved = next(e for e in before if e.window_end is not None)
    with run.store() as uow:
        alloc = uow.get_allocation(reserved.allocation_id)
        assert alloc is not None and alloc.end is not None
        uow.update_allocation(replace(alloc, end=alloc.end + timedelta(hours=5)))
        uow.commit()
    try:
        moved = direct.lifecycle_events(until)
        assert moved == Generic(run.store).lifecycle_events(until)
        mine = [e for e in moved if e.allocation_id == reserved.allocation_id]
        assert mine and all(e.window_end == reserved.window_end + timedelta(hours=5) for e in mine)
    finally:
        with run.store() as uow:
            uow.update_allocation(alloc)
            uow.commit()
    assert direct.lifecycle_events(until) == before

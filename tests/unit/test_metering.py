from datetime import timedelta

import pytest

from neocloud.billing.domain.metering import coverage, meter
from neocloud.billing.domain.pricing import RESERVED_TERMS_MONTHS
from neocloud.kernel.errors import InvalidInput
from tests.builders import T0, at, event, reservation, run

TERMS = RESERVED_TERMS_MONTHS


def metered(events, until, existing=None, grid=86_400):
    return meter(
        events,
        coverage(e for v in (existing or {}).values() for e in v),
        until,
        terms=TERMS,
        grid_seconds=grid,
    )


def seconds(entries) -> int:
    return sum(e.seconds for e in entries)


def test_on_demand_bills_from_active_until_ended():
    events = [
        event("a", "requested", at()),
        event("a", "active", at(hours=1)),
        event("a", "ended", at(hours=4)),
    ]
    entries = metered(events, at(days=2)).entries
    assert [(e.start, e.end) for e in entries] == [(at(hours=1), at(hours=4))]


def test_never_active_bills_nothing():
    events = [event("a", "requested", at()), event("a", "cancelled", at(hours=1))]
    assert metered(events, at(days=2)).entries == []


def test_ending_still_bills():
    events = [*run("a", at())[:2], event("a", "ending", at(hours=1)), event("a", "ended", at(hours=2))]
    assert seconds(metered(events, at(days=1)).entries) == 7200


def test_preempted_spot_stops_billing_at_preemption():
    events = run("s", at(), at(minutes=90), end_state="preempted", product="spot")
    assert seconds(metered(events, at(days=1)).entries) == 5400


def test_unused_reservation_bills_its_whole_window():
    events = reservation("r", at(days=1), at(days=3))
    assert seconds(metered(events, at(days=5)).entries) == 2 * 86_400


def test_reservation_cancelled_before_its_start_bills_nothing():
    events = [
        *reservation("r", at(days=1), at(days=3), booked=at()),
        event("r", "cancelled", at(hours=12), product="reserved"),
    ]
    assert metered(events, at(days=5)).entries == []


def test_reservation_cancelled_after_its_start_bills_the_whole_window():
    events = [
        *reservation("r", at(days=1), at(days=3)),
        event("r", "cancelled", at(days=1, hours=1), product="reserved"),
    ]
    assert seconds(metered(events, at(days=1, hours=2)).entries) == 2 * 86_400


def test_extension_bills_the_longer_window():
    window, longer = (at(), at(days=1)), (at(), at(days=2))
    events = [
        event("r", "active", at(), product="reserved", window=window),
        event("r", "active", at(hours=20), product="reserved", window=longer),
    ]
    assert seconds(metered(events, at(days=3)).entries) == 2 * 86_400


def test_reserved_term_defaults_to_the_nearest_listed_term():
    entries = metered(reservation("r", at(), at(days=91)), at(days=100)).entries
    assert {e.term_months for e in entries} == {3}


def test_failure_while_allocated_records_an_incident_and_stops_on_demand_billing():
    result = metered(run("a", at(), at(hours=2), end_state="failed"), at(days=1))
    assert seconds(result.entries) == 7200
    assert [(i.allocation_id, i.at, i.kind) for i in result.incidents] == [("a", at(hours=2), "node-failed")]


def test_failed_before_active_records_no_incident():
    events = [event("a", "requested", at()), event("a", "failed", at(hours=1))]
    assert metered(events, at(days=1)).incidents == []


def test_running_allocation_is_settled_only_to_the_last_grid_edge():
    entries = metered(run("a", at(hours=1)), at(days=1, hours=5)).entries
    assert [(e.start, e.end) for e in entries] == [(at(hours=1), at(days=1))]


def test_entries_are_cut_at_day_edges():
    entries = metered(run("a", at(hours=12), at(days=2, hours=6)), at(days=3)).entries
    assert [e.end for e in entries] == [at(days=1), at(days=2), at(days=2, hours=6)]


def test_replaying_the_same_events_adds_nothing():
    events = run("a", at(), at(days=3))
    first = metered(events, at(days=4)).entries
    ledger = {"a": first}
    assert metered(events, at(days=4), existing=ledger).entries == []


def test_metering_later_only_adds_what_is_new():
    events = run("a", at())
    first = metered(events, at(days=1, hours=3)).entries
    more = metered(events, at(days=3), existing={"a": first}).entries
    assert [(e.start, e.end) for e in more] == [(at(days=1), at(days=2)), (at(days=2), at(days=3))]


def test_entry_ids_are_deterministic():
    events = run("a", at(), at(hours=5))
    assert [e.id for e in metered(events, at(days=1)).entries] == [
        e.id for e in metered(events, at(days=2)).entries
    ]


def test_shared_gpu_counts_milli_gpu_seconds():
    entries = metered(run("a", at(), at(hours=1), gpus=1, milli=250), at(days=1)).entries
    assert entries[0].gpu_time.milli_gpu_seconds == 250 * 3600


def test_events_after_until_are_ignored():
    events = run("a", at(), at(days=2, hours=1))
    assert seconds(metered(events, at(days=1)).entries) == 86_400


def test_unsettled_view_reaches_until_exactly():
    result = meter(run("a", at()), {}, at(hours=5), terms=TERMS, settled=False)
    assert seconds(result.entries) == 5 * 3600


def test_naive_event_time_is_refused():
    with pytest.raises(InvalidInput) as err:
        event("a", "active", T0.replace(tzinfo=None))
    assert err.value.details["field"] == "at"


def test_shared_gpu_with_several_gpus_is_refused():
    with pytest.raises(InvalidInput, match="exactly one GPU"):
        event("a", "active", T0, gpus=2, milli=500)


def test_unknown_state_names_the_field():
    with pytest.raises(InvalidInput) as err:
        event("a", "running", T0)
    assert err.value.details["field"] == "to_state"


def test_reserved_active_without_a_window_is_refused():
    with pytest.raises(InvalidInput, match="no window"):
        metered([event("r", "active", T0, product="reserved")], at(days=1))


def test_reserved_request_cancelled_before_booking_bills_nothing():
    events = [
        event("r", "requested", at(), product="reserved"),
        event("r", "cancelled", at(hours=1), product="reserved"),
    ]
    assert metered(events, at(days=1)).entries == []


def test_window_must_end_after_it_starts():
    with pytest.raises(InvalidInput) as err:
        event("r", "scheduled", T0, product="reserved", window=(at(days=1), at()))
    assert err.value.details["field"] == "window_end"


def test_an_event_changing_the_allocation_size_is_refused():
    events = [event("a", "requested", at()), event("a", "active", at(hours=1), gpus=4)]
    with pytest.raises(InvalidInput, match="changes"):
        metered(events, at(days=1))


def test_bad_grid_is_refused():
    with pytest.raises(InvalidInput) as err:
        metered(run("a", at(), at(hours=1)), at(days=1), grid=7_000)
    assert err.value.details["field"] == "grid_seconds"


def test_cut_at_grid_is_aligned_to_utc_midnight():
    entries = metered(run("a", at(hours=-1), at(hours=1)), at(days=1), grid=3600).entries
    assert [e.start for e in entries] == [at(hours=-1), T0]
    assert entries[0].end - entries[0].start == timedelta(hours=1)

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neocloud.control.domain.allocations import TERMINAL, TRANSITIONS, Allocation, GpuBooking
from neocloud.kernel.errors import InvalidInput, InvalidTransition
from neocloud.kernel.ids import AllocationId, NodeId, ProjectId, TenantId
from neocloud.kernel.products import Product, State

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def fresh(end: datetime | None = T0 + timedelta(hours=1)) -> Allocation:
    alloc, _ = Allocation.new(
        AllocationId("a1"), TenantId("t"), ProjectId("p"), Product.RESERVED, "H100", 8, T0, end, at=T0
    )
    return alloc


def test_a_new_allocation_is_requested_with_a_first_event():
    alloc, event = Allocation.new(
        AllocationId("a1"), TenantId("t"), ProjectId("p"), Product.SPOT, "H100", 8, T0, None, at=T0
    )
    assert alloc.state is State.REQUESTED
    assert (event.from_state, event.to_state, event.product, event.gpus) == (
        None,
        State.REQUESTED,
        Product.SPOT,
        8,
    )


def test_the_happy_path_goes_through_every_state_with_events():
    alloc = fresh()
    seen = []
    for state in (State.SCHEDULED, State.PROVISIONING, State.ACTIVE, State.ENDING, State.ENDED):
        alloc, event = alloc.to(state, at=T0)
        seen.append((event.from_state, event.to_state))
    assert seen[0] == (State.REQUESTED, State.SCHEDULED) and seen[-1] == (State.ENDING, State.ENDED)


def test_active_records_started_at_and_terminal_records_ended_at():
    alloc = fresh()
    for state in (State.SCHEDULED, State.PROVISIONING):
        alloc, _ = alloc.to(state, at=T0)
    alloc, _ = alloc.to(State.ACTIVE, at=T0 + timedelta(minutes=1))
    assert alloc.started_at == T0 + timedelta(minutes=1) and alloc.ended_at is None
    alloc, _ = alloc.to(State.PREEMPTED, at=T0 + timedelta(minutes=9))
    assert alloc.ended_at == T0 + timedelta(minutes=9)


def test_an_illegal_move_raises_invalid_transition_naming_the_allowed_ones():
    with pytest.raises(InvalidTransition) as err:
        fresh().to(State.ACTIVE, at=T0)
    assert err.value.details["allowed"] == ["cancelled", "failed", "scheduled"]


@pytest.mark.parametrize("state", sorted(TERMINAL))
def test_terminal_states_have_no_way_out(state):
    assert TRANSITIONS[state] == frozenset()


def test_naive_datetimes_are_refused():
    with pytest.raises(InvalidInput):
        fresh().to(State.SCHEDULED, at=datetime(2026, 1, 1))


def test_an_allocation_must_end_after_it_starts():
    with pytest.raises(InvalidInput):
        fresh(end=T0)


@given(st.lists(st.sampled_from(list(State)), max_size=12))
def test_any_walk_only_takes_moves_from_the_table(moves):
    alloc = fresh()
    for target in moves:
        before = alloc.state
        try:
            alloc, event = alloc.to(target, at=T0)
        except InvalidTransition:
            assert target not in TRANSITIONS[before]
            continue
        assert target in TRANSITIONS[before] and event.from_state is before and event.to_state is target


def test_an_empty_booking_holds_nothing():
    b = GpuBooking(AllocationId("a"), NodeId("n"), 0, T0, T0)
    assert not b.overlaps(T0 - timedelta(hours=1), T0 + timedelta(hours=1))


def test_bookings_are_half_open():
    b = GpuBooking(AllocationId("a"), NodeId("n"), 0, T0, T0 + timedelta(hours=1))
    assert not b.overlaps(T0 + timedelta(hours=1), None)
    assert b.overlaps(T0 + timedelta(minutes=59), T0 + timedelta(hours=2))
    assert not b.overlaps(T0 - timedelta(hours=1), T0)


def test_each_change_makes_what_dataclasses_replace_makes() -> None:
    """The allocation's own copy-with-changes (`_with`, faster) is `dataclasses.replace`, field for field."""
    from dataclasses import fields, replace

    t = datetime(2026, 1, 1, tzinfo=UTC)
    a, _ = Allocation.new(
        AllocationId("a"), TenantId("t"), ProjectId("p"), Product.SPOT, "H100", 8, t, None, at=t, shape="x"
    )
    placed = a.placed((NodeId("n1"), NodeId("n2")), t + timedelta(hours=1))
    assert placed == replace(a, nodes=(NodeId("n1"), NodeId("n2")), start=t + timedelta(hours=1))
    noticed = placed.with_notice(t, t + timedelta(hours=2))
    assert noticed == replace(placed, preempted_at=t, notice_until=t + timedelta(hours=2))
    moved, _ = noticed.to(State.SCHEDULED, at=t)
    assert moved == replace(noticed, state=State.SCHEDULED)
    assert placed.extended(t + timedelta(days=1), 7) == replace(
        placed, end=t + timedelta(days=1), price_minor=7
    )
    every = {f.name: getattr(moved, f.name) for f in fields(Allocation)}
    assert Allocation(**every) == moved
    with pytest.raises(KeyError):
        moved._with(no_such_field=1)

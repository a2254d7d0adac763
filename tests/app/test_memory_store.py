"""The memory store writes in place through an undo log: leaving a unit of work without commit must give
back exactly the state before it (every read, every index), and what a unit committed must stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.control.adapters.memory import MemoryStore, MemoryUnitOfWork
from neocloud.control.domain.allocations import Allocation, Event, GpuBooking
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.kernel.audit import Actor, AuditEntry
from neocloud.kernel.ids import AllocationId, NodeId, ProjectId, TenantId
from neocloud.kernel.products import Product, State
from tests.builders import node

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NODES = [node(f"n{i}", gpus=4) for i in range(4)] + [node("n4", model="H200", gpus=4)]  # two models
STATES = list(State)


def hours(h: int) -> datetime:
    return T0 + timedelta(hours=h)


def allocation(i: int, state: State, end: int | None, key: str | None) -> Allocation:
    return Allocation(
        AllocationId(f"a{i}"),
        TenantId(f"t{i % 2}"),
        ProjectId("p"),
        Product.ON_DEMAND,
        "H100",
        4,
        hours(i % 5),
        None if end is None else hours(i % 5 + end),
        state,
        T0,
        idempotency_key=key,
    )


# one write: (kind, small integers the write picks its arguments from)
writes = st.lists(st.tuples(st.sampled_from(range(10)), st.integers(0, 7), st.integers(0, 7)), max_size=25)


def apply(uow: MemoryUnitOfWork, kind: int, x: int, y: int) -> None:
    if kind == 0:
        uow.add_allocation(allocation(x, STATES[y % len(STATES)], None if y % 3 == 0 else y + 1, f"k{x % 3}"))
    elif kind == 1:
        found = uow.get_allocation(f"a{x}")
        if found is not None:
            uow.update_allocation(allocation(x, STATES[y % len(STATES)], y + 1, None if y % 2 else f"k{y}"))
    elif kind == 2:
        end = None if y % 2 == 0 else hours(y)
        uow.add_bookings(
            [GpuBooking(AllocationId(f"a{x}"), NodeId(f"n{y % 5}"), s, hours(x % 3), end) for s in range(2)]
        )
    elif kind == 3:
        uow.end_bookings(f"a{x}", hours(y))
    elif kind == 4:
        uow.end_node_bookings(f"a{x}", f"n{y % 5}", hours(y))
    elif kind == 5:
        uow.add_event(
            Event(
                AllocationId(f"a{x}"),
                TenantId(f"t{x % 2}"),
                ProjectId("p"),
                Product.ON_DEMAND,
                "H100",
                4,
                (),
                None,
                STATES[y % len(STATES)],
                hours(y),
            )
        )
    elif kind == 6:
        uow.set_node_state(f"n{x % 4}", ["ready", "unhealthy", "spare"][y % 3])
    elif kind == 7:
        uow.bump_auth_epoch()
        uow.add_audit(AuditEntry(hours(x), Actor("op"), "act", f"a{x}", f"t{y % 2}"))
    elif kind == 8:
        uow.add_maintenance(NodeMaintenance(f"mnt_{x % 3}", NodeId(f"n{y % 4}"), hours(x), hours(x + 2)))
    else:
        uow.delete_maintenance(f"mnt_{x % 3}")


def everything(uow: MemoryUnitOfWork) -> Any:
    """Every read of the store, over windows that cover the whole history."""
    ids = [f"a{i}" for i in range(8)]
    return (
        uow.nodes(),
        uow.nodes("H100"),
        uow.node_version("H100"),
        uow.node_states(),
        uow.auth_epoch(),
        uow.audit_entries(None, None, None, None, 1000),
        uow.audit_entries("t1", None, None, 2, 1000),
        uow.maintenance(),
        uow.list_allocations(None, tuple(Product), None, None, 100),
        [uow.live_allocations(None, "H100", hours(h), hours(h + 3)) for h in range(0, 14, 3)],
        [uow.allocation_by_key(f"t{t}", f"k{k}") for t in range(2) for k in range(8)],
        [uow.due(hours(h), 100) for h in range(0, 14, 4)],
        [uow.bookings("H100", hours(h), None) for h in range(0, 14, 2)],
        [uow.bookings("H100", hours(h), hours(h + 1), nodes=["n1", "n2", "n4"]) for h in range(0, 14, 2)],
        [uow.bookings("H200", hours(h), None) for h in range(0, 14, 2)],
        [uow.taken("H100", hours(h), hours(h + 2)) for h in range(0, 14, 2)],
        [uow.bookings_of(a) for a in ids],
        [uow.events(a) for a in ids],
        uow.events_after(0),
        uow.events_after(0, "t1"),
    )


def seeded(before: list[tuple[int, int, int]]) -> MemoryStore:
    store = MemoryStore()
    with store() as uow:
        uow.add_nodes(NODES)
        for w in before:
            apply(uow, *w)
        uow.commit()
    return store


@settings(max_examples=150, deadline=None)
@given(before=writes, during=writes)
def test_leaving_without_commit_gives_back_exactly_the_state_before(before: Any, during: Any) -> None:
    store = seeded(before)
    with store() as uow:
        was = everything(uow)
    with store() as uow:
        for w in during:
            apply(uow, *w)
    with store() as uow:
        assert everything(uow) == was


@settings(max_examples=100, deadline=None)
@given(before=writes, kept=writes, dropped=writes)
def test_what_was_committed_stays_and_only_the_rest_is_taken_back(
    before: Any, kept: Any, dropped: Any
) -> None:
    store, same = seeded(before), seeded(before)
    with same() as uow:  # the same writes, committed on their own
        for w in kept:
            apply(uow, *w)
        uow.commit()
    with store() as uow:
        for w in kept:
            apply(uow, *w)
        uow.commit()
        for w in dropped:
            apply(uow, *w)
    with store() as a, same() as b:
        assert everything(a) == everything(b)


def test_an_exception_inside_a_unit_takes_its_writes_back() -> None:
    store = seeded([])
    with pytest.raises(RuntimeError), store() as uow:
        uow.add_allocation(allocation(1, State.ACTIVE, None, "k"))
        uow.set_node_state("n1", "unhealthy")
        raise RuntimeError("boom")
    with store() as uow:
        assert uow.get_allocation("a1") is None
        assert uow.allocation_by_key("t1", "k") is None
        assert uow.node_states() == {}


def test_a_unit_begun_inside_another_on_the_same_thread_is_refused() -> None:
    store = seeded([])
    with store() as outer:
        outer.set_node_state("n1", "unhealthy")
        with pytest.raises(RuntimeError, match="inside another"), store():
            pass
        outer.commit()
    with store() as uow:  # the refusal left the store usable and the outer unit's work in place
        assert uow.node_states() == {"n1": "unhealthy"}


def test_the_event_log_reads_from_a_position() -> None:
    store = seeded([(5, 1, 1), (5, 2, 2)])
    with store() as uow:
        first, at = uow.events_after(0)
        apply(uow, 5, 3, 3)
        uow.commit()
        later, end = uow.events_after(at)
    assert [e.allocation_id for e in first] == ["a1", "a2"] and at == 2
    assert [e.allocation_id for e in later] == ["a3"] and end == 3


@settings(max_examples=150, deadline=None)
@given(before=writes)
def test_the_booking_indexes_answer_as_a_scan_of_every_booking_would(before: Any) -> None:
    store = seeded(before)
    every = [b for _, b in sorted(store.tables.bookings.items())]  # in the order they were made
    of = {"H100": {f"n{i}" for i in range(4)}, "H200": {"n4"}}
    with store() as uow:
        for model, h, span, nodes in [
            (m, h, span, nodes)
            for m in of
            for h in range(0, 14, 2)
            for span in (None, 1, 5)
            for nodes in (None, ["n1"], ["n0", "n4"])
        ]:
            end = None if span is None else hours(h + span)
            wanted = of[model] if nodes is None else of[model] & set(nodes)
            scan = [b for b in every if b.node_id in wanted and b.overlaps(hours(h), end)]
            for w in store.tables.maintenance.values():  # windows follow, as bookings of every GPU
                if w.node_id in wanted:
                    scan.extend(b for b in w.bookings(4) if b.overlaps(hours(h), end))
            assert uow.bookings(model, hours(h), end, nodes) == scan

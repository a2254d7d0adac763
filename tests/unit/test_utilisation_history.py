"""Healthy GPU-hours per day come from each node's lifecycle history, not from today's states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from neocloud.control.app.utilisation import Transition, healthy_gpu_seconds

D0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = 86_400


def test_without_history_every_node_is_as_it_is_now_throughout() -> None:
    got = healthy_gpu_seconds(D0, 3, {"a": 8, "b": 4}, {"a"}, [])
    assert got == [8 * DAY] * 3


def test_a_node_drained_mid_day_counts_until_then_and_is_back_after_its_return() -> None:
    moves = [
        Transition("a", D0 + timedelta(days=1, hours=6), was=True, healthy=False),  # drained
        Transition("a", D0 + timedelta(days=1, hours=12), was=False, healthy=False),  # to repair: no change
        Transition("a", D0 + timedelta(days=2, hours=18), was=False, healthy=True),  # back in service
    ]
    got = healthy_gpu_seconds(D0, 4, {"a": 8, "b": 4}, {"a", "b"}, moves)
    assert got == [12 * DAY, 4 * DAY + 8 * 6 * 3600, 4 * DAY + 8 * 6 * 3600, 12 * DAY]


def test_a_node_out_before_the_window_and_back_inside_it_starts_unhealthy() -> None:
    moves = [
        Transition("a", D0 - timedelta(days=5), was=True, healthy=False),
        Transition("a", D0 + timedelta(hours=12), was=False, healthy=True),
    ]
    got = healthy_gpu_seconds(D0, 2, {"a": 8}, {"a"}, moves)
    assert got == [8 * 12 * 3600, 8 * DAY]


def test_events_of_unknown_nodes_and_out_of_order_events_are_handled() -> None:
    moves = [
        Transition("a", D0 + timedelta(hours=20), was=False, healthy=True),
        Transition("ghost", D0, was=True, healthy=False),
        Transition("a", D0 + timedelta(hours=2), was=True, healthy=False),
    ]
    got = healthy_gpu_seconds(D0, 1, {"a": 8}, {"a"}, moves)
    assert got == [8 * (2 + 4) * 3600]

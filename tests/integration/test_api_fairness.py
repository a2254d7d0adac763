"""The per-model FIFO gate in front of capacity decisions serves a process's requests in arrival order."""

from __future__ import annotations

import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.api.fairness import AdmissionGates, FifoGate


def _wait_until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 8))
def test_waiters_enter_in_the_order_they_arrived(waiters: int) -> None:
    gate = FifoGate()
    entered: list[int] = []
    gate.__enter__()  # hold it while the others queue up one by one
    threads = []
    for i in range(waiters):

        def run(i: int = i) -> None:
            with gate:
                entered.append(i)

        t = threading.Thread(target=run)
        t.start()
        threads.append(t)
        _wait_until(lambda i=i: gate.queued() == i + 2)
    gate.__exit__(None, None, None)
    for t in threads:
        t.join(10)
    assert entered == list(range(waiters))


def test_gate_is_released_when_the_body_raises() -> None:
    gate = FifoGate()
    try:
        with gate:
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gate.queued() == 0


def test_one_gate_per_model_case_insensitively() -> None:
    gates = AdmissionGates()
    assert gates.for_model("H100") is gates.for_model("h100")
    assert gates.for_model("H100") is not gates.for_model("GB200")


def test_unknown_models_share_one_gate() -> None:
    gates = AdmissionGates()
    assert gates.for_model("nope-1") is gates.for_model("nope-2")


def test_a_gate_with_slots_lets_that_many_in_at_once_in_arrival_order() -> None:
    gate = FifoGate(slots=2)
    inside, peak, entered = [0], [0], []
    lock, release = threading.Lock(), threading.Event()

    def run(i: int) -> None:
        with gate:
            with lock:
                entered.append(i)
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            release.wait(10)
            with lock:
                inside[0] -= 1

    threads = []
    for i in range(5):
        t = threading.Thread(target=run, args=(i,))
        t.start()
        threads.append(t)
        _wait_until(lambda i=i: gate.queued() == i + 1)
    _wait_until(lambda: len(entered) == 2)
    assert entered == [0, 1]  # the first two are in; the rest wait their turn
    release.set()
    for t in threads:
        t.join(10)
    assert peak[0] == 2 and sorted(entered) == list(range(5))  # two enter at once, so they may swap

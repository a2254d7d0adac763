"""An admission leaves out the nodes its own process's other admissions hold (control/app/inflight.py):
concurrent decisions in one process spread over nodes instead of colliding on the best one, and a node
held is still booked when it is the only fit."""

from __future__ import annotations

import threading

from neocloud.control.app.inflight import InFlight
from neocloud.control.app.views import ReservationRequest
from neocloud.kernel.errors import Conflict
from tests.control_builders import h100_fleet, memory_world


def test_a_node_held_twice_is_held_until_both_release_it():
    inflight = InFlight()
    with inflight.holding() as first:
        first.extend(inflight.add(["a", "b"]))
        with inflight.holding() as second:
            second.extend(inflight.add(["b"]))
            assert inflight.held() == {"a", "b"}
        assert inflight.held() == {"a", "b"}
    assert inflight.held() == set()


def test_holding_releases_on_error():
    inflight = InFlight()
    try:
        with inflight.holding() as mine:
            mine.extend(inflight.add(["a"]))
            raise RuntimeError("the unit of work failed")
    except RuntimeError:
        pass
    assert inflight.held() == set()


def test_an_admission_leaves_out_the_nodes_held_by_another_of_this_process():
    w = memory_world(h100_fleet(4), default_quota_gpus=None)
    acme = w.tenant("acme")
    first = w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1))
    free = w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1))
    assert free.nodes == first.nodes  # the packer's choice: the node already in use
    inflight = w.control.deps.inflight
    with inflight.holding() as other:
        other.extend(inflight.add(first.nodes))  # another admission of this process holds that node
        spread = w.control.reservations.reserve(acme, ReservationRequest("H100", 1, 1))
        assert set(spread.nodes).isdisjoint(first.nodes)
    assert inflight.held() == set()  # and the admission released what it claimed


def test_a_held_node_that_is_the_only_fit_is_still_booked():
    w = memory_world(h100_fleet(1), default_quota_gpus=None)
    acme = w.tenant("acme")
    inflight = w.control.deps.inflight
    with inflight.holding() as other:
        other.extend(inflight.add(["h00"]))
        booked = w.control.reservations.reserve(acme, ReservationRequest("H100", 8, 1))
    assert booked.nodes == ["h00"]


def test_concurrent_admissions_in_one_process_never_double_book():
    w = memory_world(h100_fleet(2), default_quota_gpus=None)
    acme = w.tenant("acme")
    done: list[list[str]] = []
    errors: list[Conflict] = []

    def reserve() -> None:
        try:
            done.append(w.control.reservations.reserve(acme, ReservationRequest("H100", 4, 1)).nodes)
        except Conflict as err:  # does not fit: the test counts them
            errors.append(err)

    threads = [threading.Thread(target=reserve) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 4 and len(errors) == 2  # 16 GPUs: four 4-GPU reservations fit, two do not
    assert sorted(n for nodes in done for n in nodes) == ["h00", "h00", "h01", "h01"]
    assert w.control.deps.inflight.held() == set()

import random
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.control.domain.shapes import (
    Shape,
    max_request,
    minor_text,
    place_shape,
    total_minor,
    validate,
)
from neocloud.fleet.capacity import Capacity
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import gpu_model
from neocloud.placement.engine import placer
from neocloud.placement.framework import Placement, Unschedulable
from neocloud.placement.request import Request
from tests.builders import capacity, fleet, node

H100, GB200 = gpu_model("H100"), gpu_model("GB200")
PLACER = placer("default")


def nvl72_racks(racks: int) -> Capacity:
    """`racks` GB200 NVL72 racks: 18 trays of 4 GPUs, one NVLink domain each."""
    return Capacity(
        fleet(
            *[
                node(
                    f"r{r}-t{t:02d}",
                    model="GB200",
                    gpus=4,
                    rack=f"rack-{r}",
                    nvlink=f"nvl-{r}",
                    su=f"su-{r // 2}",
                )
                for r in range(racks)
                for t in range(18)
            ]
        )
    )


def gpus_of(verdict) -> int:
    return sum(len(s.gpu_slots) for s in verdict.shares)


def test_shapes_parse_with_underscores_or_dashes():
    assert Shape.parse("whole_nvl72") is Shape.WHOLE_NVL72


def test_unknown_shape_lists_the_known_ones():
    with pytest.raises(InvalidInput) as err:
        Shape.parse("triangle")
    assert "one-fabric" in err.value.details["known"]


@pytest.mark.parametrize(
    ("model", "shape", "gpus"),
    [(H100, Shape.WHOLE_NODES, 12), (GB200, Shape.WHOLE_NVL72, 100), (H100, Shape.ONE_FABRIC, 4)],
)
def test_shapes_come_in_whole_units(model, shape, gpus):
    with pytest.raises(InvalidInput) as err:
        validate(model, shape, gpus)
    assert err.value.details["multiple_of"] in (8, 72)


def test_any_spreads_over_partly_free_nodes():
    cap = capacity(node("a"), node("b"))
    cap.take(PLACER.place(Request(gpus=5), cap, random.Random(0)).shares)
    verdict = place_shape(PLACER, H100, Shape.ANY, 10, cap, random.Random(0))
    assert isinstance(verdict, Placement) and gpus_of(verdict) == 10


def test_place_shape_leaves_the_snapshot_unchanged():
    cap = capacity(node("a"), node("b"))
    before = cap.gpu_free.copy()
    place_shape(PLACER, H100, Shape.WHOLE_NODES, 16, cap, random.Random(0))
    assert np.array_equal(cap.gpu_free, before)


def test_whole_nodes_refuses_when_only_fragments_are_free():
    cap = capacity(node("a"), node("b"))
    cap.gpu_free[:, 0] = 0
    cap.whole_free[:] = 7
    verdict = place_shape(PLACER, H100, Shape.WHOLE_NODES, 8, cap, random.Random(0))
    assert isinstance(verdict, Unschedulable) and verdict.reasons["free-gpus"] == 2


def test_whole_nvl72_takes_every_tray_of_one_rack():
    verdict = place_shape(PLACER, GB200, Shape.WHOLE_NVL72, 72, nvl72_racks(2), random.Random(0))
    assert isinstance(verdict, Placement)
    racks = {nvl72_racks(2).fleet.nodes[s.node].rack for s in verdict.shares}
    assert len(verdict.shares) == 18 and len(racks) == 1


def test_whole_nvl72_skips_a_rack_with_one_busy_tray():
    cap = nvl72_racks(2)
    cap.gpu_free[0, 0] = 0
    cap.whole_free[0] = 3
    verdict = place_shape(PLACER, GB200, Shape.WHOLE_NVL72, 72, cap, random.Random(0))
    assert isinstance(verdict, Placement) and {cap.fleet.nodes[s.node].rack for s in verdict.shares} == {
        "rack-1"
    }


def test_one_fabric_stays_inside_one_scalable_unit():
    cap = capacity(*[node(f"n{i}", su=f"su-{i // 2}") for i in range(4)])
    verdict = place_shape(PLACER, H100, Shape.ONE_FABRIC, 16, cap, random.Random(0))
    assert isinstance(verdict, Placement)
    assert len({cap.fleet.nodes[s.node].su for s in verdict.shares}) == 1


def test_one_fabric_refuses_a_job_larger_than_any_unit():
    cap = capacity(*[node(f"n{i}", su=f"su-{i // 2}") for i in range(4)])
    verdict = place_shape(PLACER, H100, Shape.ONE_FABRIC, 24, cap, random.Random(0))
    assert isinstance(verdict, Unschedulable) and "topology" in verdict.reasons


def test_no_nodes_of_the_model_says_so():
    verdict = place_shape(PLACER, gpu_model("B200"), Shape.ANY, 8, capacity(node("a")), random.Random(0))
    assert isinstance(verdict, Unschedulable) and verdict.reasons == {"gpu-model": 1}


def test_max_request_per_shape():
    cap = capacity(*[node(f"n{i}", su=f"su-{i // 2}") for i in range(4)])
    cap.gpu_free[0, :3] = 0
    cap.whole_free[0] = 5
    assert max_request(H100, Shape.ANY, cap) == 29
    assert max_request(H100, Shape.WHOLE_NODES, cap) == 24
    assert max_request(H100, Shape.ONE_FABRIC, cap) == 16


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 8), min_size=1, max_size=6), st.integers(1, 40), st.integers(0, 2**16))
def test_any_shape_never_overcommits_and_takes_exactly_what_was_asked(busy, gpus, seed):
    cap = capacity(*[node(f"n{i}") for i in range(len(busy))])
    for i, b in enumerate(busy):
        cap.gpu_free[i, :b] = 0
        cap.whole_free[i] = 8 - b
    verdict = place_shape(PLACER, H100, Shape.ANY, gpus, cap, random.Random(seed))
    if isinstance(verdict, Placement):
        cap.take(verdict.shares)  # raises Conflict on any over-commit
        assert gpus_of(verdict) == gpus
    else:
        assert gpus > sum(8 - b for b in busy)


def test_prices_round_half_even_to_the_cent_in_integer_minor_units():
    assert total_minor(Decimal("0.335"), 1, 3) == 100 and total_minor(Decimal("0.505"), 1, 3) == 152
    assert minor_text(123456) == "1234.56"


def test_total_is_unit_times_gpus_times_hours():
    assert total_minor(Decimal("3.08"), 16, 10) == 49280

"""Hypothesis strategies shared by the placement property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from neocloud.fleet.fleet import Fleet
from tests.builders import fleet, node


@st.composite
def fleets(draw: st.DrawFn) -> Fleet:
    """GB200 racks (18 trays, one NVLink domain each) and H100 racks over SUs and halls."""
    nodes = []
    for h in range(draw(st.integers(1, 2))):
        for s in range(draw(st.integers(1, 2))):
            su = f"h{h}-su{s}"
            for r in range(draw(st.integers(1, 3))):
                rack = f"{su}-r{r}"
                if draw(st.booleans()):
                    nodes += [
                        node(
                            f"{rack}-t{t}",
                            model="GB200",
                            gpus=4,
                            rack=rack,
                            nvlink=rack,
                            leaf=su,
                            su=su,
                            hall=f"h{h}",
                        )
                        for t in range(18)
                    ]
                else:
                    nodes += [
                        node(f"{rack}-n{t}", rack=rack, leaf=su, su=su, hall=f"h{h}")
                        for t in range(draw(st.integers(1, 4)))
                    ]
    return fleet(*nodes)

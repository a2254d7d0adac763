"""Property: where the aggregation gives nothing up (whole-node on-demand jobs on one homogeneous
fleet, no spot victims to choose, no failures), the pooled engine's accounting is the control plane's,
to the GPU-second and the cent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neocloud.sim.run import run_scenario
from neocloud.sim.scenarios import parse

job = st.fixed_dictionaries(
    {
        "product": st.just("on-demand"),
        "at_hours": st.floats(0, 40, allow_nan=False).map(lambda h: round(h, 3)),
        "nodes": st.integers(1, 14),
        "hours": st.floats(0.1, 30, allow_nan=False).map(lambda h: round(h, 3)),
    }
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jobs=st.lists(job, min_size=1, max_size=40), reserved_racks=st.integers(0, 1))
def test_pooled_equals_exact_without_victims_to_choose(
    jobs: list[dict[str, object]], reserved_racks: int
) -> None:
    raw = {
        "name": "prop",
        "days": 2,
        "fleet": {"preset": "demo", "params": {"gb200_racks": 2, "h100_sus": 0}},
        "reserved": [{"tenant": "lab", "gpus": 72, "term_days": 30}] if reserved_racks else [],
        "demand": {"source": "list", "jobs": jobs, "on_demand": {"share": 0.0, "max_wait_hours": 0}},
        "failures": {"per_gpu_day": 0, "spare_share": 0},
    }
    s = parse(raw)
    exact, pooled = run_scenario(s, engine="exact"), run_scenario(s, engine="pooled")
    assert pooled.utilisation_by_product == exact.utilisation_by_product
    assert pooled.revenue_by_product == exact.revenue_by_product
    assert pooled.extra["on-demand_refused"] == exact.extra["on-demand_refused"]

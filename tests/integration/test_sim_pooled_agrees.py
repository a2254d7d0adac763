"""The pooled engine (the stated aggregation used at campus scale) agrees with the exact engine (the
control plane's own use cases) on gb200-superpod within 2 % on utilisation and revenue.

Demand is the preset's synthetic variant so the test needs no data file; `neocloud bench sim` shows the
same comparison with Philly demand."""

from __future__ import annotations

from dataclasses import replace

import pytest

from neocloud.sim.run import run_scenario
from neocloud.sim.scenarios import preset


@pytest.mark.parametrize("seed", [0, 1])
def test_pooled_agrees_with_exact_on_gb200_superpod(seed: int) -> None:
    s = replace(preset("gb200-superpod"), source="synthetic").with_days(3)
    exact = run_scenario(s, seed=seed, engine="exact")
    pooled = run_scenario(s, seed=seed, engine="pooled")
    assert exact.extra["on-demand_completed"] > 100  # real demand went through both
    assert pooled.utilisation == pytest.approx(exact.utilisation, rel=0.02)
    assert float(pooled.revenue) == pytest.approx(float(exact.revenue), rel=0.02)
    for product in ("reserved", "on-demand", "spot"):
        assert pooled.utilisation_by_product[product] == pytest.approx(
            exact.utilisation_by_product[product], rel=0.05, abs=0.002
        )

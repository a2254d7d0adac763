"""A sweep over simulation seeds runs the simulator per point, with the same rows on a pool and serially."""

from __future__ import annotations

import pytest

from neocloud.plan import simulate, sweep
from tests.integration.test_plan_cli import SMALL_CAMPUS


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "small.yaml"
    path.write_text(SMALL_CAMPUS)
    return str(path)


def test_seed_grid_simulates_each_point_identically_on_any_executor(scenario):
    items = sweep.tasks(scenario, sweep.parse_grid(["seed=1,2", "price=4"]), days=1, seed=0)
    assert [(t.seed, t.point) for t in items] == [(1, (("price", "4"),)), (2, (("price", "4"),))]
    pooled = sweep.run(items, workers=2)
    assert pooled == sweep.run_serial(items)
    for row, seed in zip(pooled, (1, 2), strict=True):
        _, result = simulate.simulate(scenario, days=1, seed=seed)
        assert row["seed"] == seed
        assert row["utilisation"] == pytest.approx(result.utilisation, abs=1e-6)


def test_a_saved_run_cannot_sweep_seeds(scenario):
    from neocloud.kernel.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        sweep.tasks(scenario, sweep.parse_grid(["seed=1,2"]), days=1, seed=0, saved={"x": 1})
    assert err.value.details["field"] == "grid"

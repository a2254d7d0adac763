"""The pooled engine picks which running job a failure hits with probability proportional to its
nodes (a failure lands on a node; a job on more nodes is hit more often)."""

from __future__ import annotations

import random
from types import SimpleNamespace

from neocloud.sim.pooled_failures import PooledFailures
from neocloud.sim.pooled_state import Pool


def test_a_job_on_nine_nodes_is_hit_nine_times_as_often_as_one_on_one() -> None:
    pool = Pool()
    pool.add(1, 1)
    pool.add(2, 9)
    engine = SimpleNamespace(
        pools={0: pool},
        runs={1: SimpleNamespace(nodes=1), 2: SimpleNamespace(nodes=9)},
        _frng=random.Random(7),
    )
    picks = [PooledFailures._pick_job(engine, 0) for _ in range(20_000)]  # type: ignore[arg-type]
    share = picks.count(2) / len(picks)
    # 0.9 expected; 20,000 draws give a standard error of 0.0021: 5 SE either side
    assert abs(share - 0.9) < 0.0106

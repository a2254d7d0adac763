"""The fleet simulator: neocloud's own control plane on virtual time (see docs in `run.py`,
`scenarios/`, `exact.py`, `pooled.py`, `openb_demand.py`).

    from neocloud.sim import run_scenario
    result = run_scenario("gb200-superpod", days=30, seed=0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neocloud.sim.result import SimResult

if TYPE_CHECKING:
    from neocloud.sim.scenarios import Scenario

__all__ = ["Scenario", "SimResult", "run_scenario"]


def run_scenario(*args: Any, **kwargs: Any) -> SimResult:
    """See `neocloud.sim.run.run_scenario`."""
    from neocloud.sim.run import run_scenario as run

    return run(*args, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "Scenario":
        from neocloud.sim.scenarios import Scenario

        return Scenario
    raise AttributeError(name)

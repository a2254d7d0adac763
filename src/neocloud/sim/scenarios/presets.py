"""The built-in scenarios: `tiny` (one NVL72 rack, for tests), `gb200-superpod` and `campus-1gw`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neocloud.kernel.errors import InvalidInput
from neocloud.sim.scenarios.model import Scenario
from neocloud.sim.scenarios.parse import load, parse

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "name": "tiny",
        "days": 2,
        "fleet": {"preset": "demo", "params": {"gb200_racks": 2, "h100_sus": 0}},
        "reserved": [{"tenant": "lab-a", "gpus": 72, "term_days": 30}],
        "demand": {
            "source": "synthetic",
            "on_demand": {"share": 0.25, "mean_nodes": 2, "mean_hours": 6},
            "spot": {"share": 0.2, "mean_nodes": 2, "mean_hours": 4},
        },
        "failures": {"per_gpu_day": 0.004, "repair_hours": 12, "spare_share": 0.0},
    },
    "gb200-superpod": {
        "name": "gb200-superpod",
        "days": 30,
        "fleet": {"preset": "gb200-superpod", "params": {"sus": 4}},
        "reserved": [
            {"tenant": "lab-a", "share": 0.25, "term_days": 365},
            {"tenant": "lab-b", "share": 0.125, "term_days": 180},
        ],
        "demand": {
            "source": "philly",
            "on_demand": {"share": 0.35, "max_wait_hours": 1},
            "spot": {"share": 0.2, "max_wait_hours": 0},
        },
        "failures": {"spare_share": 0.05},
    },
    "campus-1gw": {
        "name": "campus-1gw",
        "days": 365,
        "engine": "pooled",
        "fleet": {"preset": "campus-1gw"},
        "reserved": [{"tenant": "lab", "share": 0.6, "count": 3, "term_days": 1096}],
        "demand": {
            "source": "philly",
            "on_demand": {"share": 0.2, "max_wait_hours": 1},
            "spot": {"share": 0.15, "max_wait_hours": 0},
        },
        "failures": {"spare_share": 0.05},
    },
}


def preset(name: str) -> Scenario:
    """A built-in scenario: tiny, gb200-superpod, campus-1gw (see PRESETS)."""
    if name not in PRESETS:
        raise InvalidInput(
            f"unknown scenario preset {name!r}; known: {', '.join(PRESETS)}",
            details={"field": "scenario", "known": list(PRESETS)},
        )
    return parse(PRESETS[name])


def resolve(scenario: Scenario | str | Path) -> Scenario:
    """A Scenario as given, a preset's name, or a scenario file's path."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str) and scenario in PRESETS:
        return preset(scenario)
    return load(scenario)

"""Scenario files: presets load, files parse, and every error names the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neocloud.kernel.errors import InvalidInput
from neocloud.sim import scenarios

BASE = {
    "name": "t",
    "days": 1,
    "fleet": {"preset": "demo", "params": {"gb200_racks": 2, "h100_sus": 0}},
    "demand": {"source": "synthetic", "on_demand": {"share": 0.2}},
}


def with_(**changes: object) -> dict[str, object]:
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    raw.update(changes)
    return raw


def field_of(raw: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        scenarios.parse(raw)
    assert caught.value.details["field"] in caught.value.message
    return str(caught.value.details["field"])


def test_presets_load_with_their_fleets() -> None:
    assert scenarios.fleet_gpus(scenarios.preset("gb200-superpod")) == 2304
    campus = scenarios.preset("campus-1gw")
    assert campus.engine == "pooled" and sum(c.gpus for c in campus.reserved) == 3 * 79_920
    assert scenarios.preset("tiny").reserved[0].gpus == 72


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="campus-1gw"):
        scenarios.preset("nope")


def test_a_yaml_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(with_(reserved=[{"tenant": "lab", "gpus": 72, "term_days": 30}])))
    s = scenarios.load(path)
    assert s.name == "t" and s.reserved[0].gpus == 72 and s.on_demand.share == 0.2


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (with_(dayz=3), "dayz"),
        (with_(days=-1), "days"),
        (with_(days="soon"), "days"),
        (with_(engine="fast"), "engine"),
        (with_(fleet={"preset": "nope"}), "fleet.preset"),
        (with_(fleet={"preset": "demo", "params": {"racks": 2}}), "fleet.params.racks"),
        (with_(fleet={"preset": "demo", "params": {"gb200_racks": 99}}), "fleet.params.gb200_racks"),
        (with_(fleet={}), "fleet"),
        (with_(demand={"source": "csv"}), "demand.source"),
        (with_(demand={"on_demand": {"share": 2}}), "demand.on_demand.share"),
        (with_(demand={"spot": {}}), "demand.spot.share"),
        (with_(reserved=[{"gpus": 70}]), "reserved[0].gpus"),
        (with_(reserved=[{"gpus": 72, "share": 0.5}]), "reserved[0]"),
        (with_(reserved=[{"gpus": 72, "shape": "blob"}]), "reserved[0].shape"),
        (with_(reserved="all"), "reserved"),
        (with_(failures={"per_gpu_day": "often"}), "failures.per_gpu_day"),
        (
            with_(failures={"schedule": [{"at_hours": 1, "node": "nope", "repair_hours": 1}]}),
            "failures.schedule[0].node",
        ),
        (with_(power={"idle_w_per_gpu": 2000, "active_w_per_gpu": 1000}), "power.idle_w_per_gpu"),
        (with_(sla={"tiers": [[0.99]]}), "sla.tiers[0]"),
        (with_(start="2026-01-01T00:00:00+02:00"), "start"),
        (
            with_(
                demand={
                    "source": "list",
                    "jobs": [{"product": "gift", "at_hours": 0, "nodes": 1, "hours": 1}],
                }
            ),
            "demand.jobs[0].product",
        ),
        (with_(reserved=[{"share": 0.9}], demand={"on_demand": {"share": 0.5}}), "demand"),
    ],
)
def test_errors_name_the_field(raw: object, field: str) -> None:
    assert field_of(raw) == field


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not found"):
        scenarios.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        scenarios.load(bad)
    top = tmp_path / "list.yaml"
    top.write_text("- 1\n- 2\n")
    with pytest.raises(InvalidInput, match="top level"):
        scenarios.load(top)

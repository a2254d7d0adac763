"""Tiny scenarios worked out by hand: utilisation, revenue, SLA credits, energy and events, on both
engines (the exact one runs the control plane's use cases; the pooled one is the stated aggregation)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from neocloud.sim.run import run_scenario
from neocloud.sim.scenarios import parse

FLEET = {"preset": "demo", "params": {"gb200_racks": 2, "h100_sus": 0}}  # 36 trays x 4 = 144 GB200


def jobs_scenario() -> dict[str, object]:
    return {
        "name": "hand",
        "days": 2,
        "fleet": FLEET,
        "reserved": [{"tenant": "lab", "gpus": 72, "term_days": 30}],
        "demand": {
            "source": "list",
            "jobs": [
                {"product": "on-demand", "at_hours": 1, "nodes": 2, "hours": 10},
                {"product": "spot", "at_hours": 2, "nodes": 1, "hours": 5},
            ],
        },
        "failures": {"per_gpu_day": 0, "spare_share": 0},
        "power": {"idle_w_per_gpu": 400, "active_w_per_gpu": 1600, "pue": 1.25},
    }


@pytest.mark.parametrize("engine", ["exact", "pooled"])
def test_jobs_and_a_contract_by_hand(engine: str) -> None:
    r = run_scenario(parse(jobs_scenario()), engine=engine)
    # GPU-hours over 48 h: reserved 72 x 48 = 3456; on-demand 2 nodes x 4 x 10 h = 80; spot 4 x 5 = 20
    assert r.gpus == 144
    assert r.utilisation == pytest.approx((3456 + 80 + 20) / (144 * 48))
    assert r.utilisation_by_product["reserved"] == pytest.approx(0.5)
    assert r.utilisation_by_product["on-demand"] == pytest.approx(80 / 6912)
    assert r.utilisation_by_product["spot"] == pytest.approx(20 / 6912)
    # GB200 list 10.50/GPU-h; spot 40 % of list = 4.20; a 30-day contract's nearest term is 1 month,
    # reserved at 60 % of list = 6.30
    assert r.revenue_by_product == {
        "reserved": Decimal("21772.80"),  # 3456 x 6.30
        "on-demand": Decimal("840.00"),  # 80 x 10.50
        "spot": Decimal("84.00"),  # 20 x 4.20
    }
    assert r.sla_credits == 0 and r.healthy_fraction == 1.0
    # (3556 GPU-h at 1.6 kW + 3356 idle GPU-h at 0.4 kW) x PUE 1.25
    assert r.energy_mwh == pytest.approx((3556 * 1600 + 3356 * 400) * 1.25 / 1e6)
    assert r.mean_power_mw == pytest.approx(r.energy_mwh / 48)
    # admission + start + stop of each job (6), admission + start of the contract (2), and the exact
    # engine's one metering pass (at 24 h; billing's grid is daily)
    assert r.events == (9 if engine == "exact" else 8)


@pytest.mark.parametrize("engine", ["exact", "pooled"])
def test_a_failure_under_a_reservation_earns_the_sla_credit(engine: str) -> None:
    raw = {
        "name": "credit",
        "days": 2,
        "fleet": FLEET,
        "reserved": [{"tenant": "lab", "gpus": 144, "term_days": 30}],
        "failures": {
            "spare_share": 0,
            "schedule": [
                {"at_hours": 1, "node": "h1-f1-su01-r1-t01", "repair_hours": 12},
            ],
        },
    }
    r = run_scenario(parse(raw), engine=engine)
    # one tray (4 GPUs) down 12 h of the contract's 144 x 48 GPU-h: availability 1 - 48/6912 ≈ 99.31 %,
    # under 99.9 %: 10 % of January's reserved charge 144 x 48 x 6.30 = 43,545.60
    assert r.revenue_by_product["reserved"] == Decimal("43545.60")
    assert r.sla_credits == Decimal("4354.56")
    assert r.utilisation == pytest.approx(1 - 48 / 6912)
    assert r.healthy_fraction == pytest.approx(1 - 48 / 6912)
    assert r.extra["failures"] == 1 and r.extra["repairs"] == 1


def test_a_hot_spare_keeps_the_contract_within_its_sla() -> None:
    raw = {
        "name": "spare",
        "days": 2,
        "fleet": FLEET,
        "reserved": [{"tenant": "lab", "gpus": 72, "term_days": 30}],
        "failures": {
            "spare_share": 0.1,
            "swap_minutes": 5,
            "schedule": [
                {"at_hours": 1, "node": "h1-f1-su01-r1-t01", "repair_hours": 12},
            ],
        },
    }
    r = run_scenario(parse(raw), engine="exact")
    # 4 GPUs down 5 minutes of 72 x 48 GPU-h: availability 99.99 %, no credit; the tray is unhealthy 12 h
    assert r.sla_credits == 0
    assert r.healthy_fraction == pytest.approx(1 - 4 * 12 / 6912)
    assert r.utilisation == pytest.approx((3456 - 4 * 5 / 60) / 6912)


def test_a_serving_spare_that_fails_puts_the_contract_down_again() -> None:
    raw = {
        "name": "spare-fails",
        "days": 1,
        "fleet": FLEET,
        "reserved": [{"tenant": "lab", "gpus": 72, "term_days": 30}],
        # 36 trays, 10 % spares = the last 4 trays of rack 2 (t15-t18); the first of them serves
        "failures": {
            "spare_share": 0.1,
            "swap_minutes": 5,
            "schedule": [
                {"at_hours": 1, "node": "h1-f1-su01-r1-t01", "repair_hours": 12},
                {"at_hours": 2, "node": "h1-f1-su01-r2-t15", "repair_hours": 3},
            ],
        },
    }
    r = run_scenario(parse(raw), engine="exact")
    # down: 5 min (the swap), then 3 h (the serving spare's repair) of 4 GPUs
    assert r.utilisation == pytest.approx((72 * 24 - 4 * (5 / 60 + 3)) / (144 * 24))
    assert r.healthy_fraction == pytest.approx(1 - 4 * (12 + 3) / (144 * 24))
    assert r.extra["failures"] == 2 and r.extra["repairs"] == 2


def test_a_contract_ending_while_one_of_its_nodes_is_down() -> None:
    raw = {
        "name": "ends-down",
        "days": 2,
        "fleet": FLEET,
        "reserved": [{"tenant": "lab", "gpus": 144, "term_days": 1}],  # every tray: the failure hits it
        "failures": {
            "spare_share": 0,
            "schedule": [
                {"at_hours": 20, "node": "h1-f1-su01-r1-t01", "repair_hours": 12},
            ],
        },
    }
    for engine in ("exact", "pooled"):
        r = run_scenario(parse(raw), engine=engine)
        # the contract holds 144 GPUs for 24 h less 4 GPUs for its last 4 h; the tray is down 12 h
        assert r.utilisation == pytest.approx((144 * 24 - 4 * 4) / (144 * 48)), engine
        assert r.healthy_fraction == pytest.approx(1 - 4 * 12 / (144 * 48)), engine
        assert r.revenue_by_product["reserved"] == Decimal("21772.80"), (
            engine
        )  # 144 x 24 x 6.30 (1-month term)
        assert r.sla_credits == Decimal("2177.28"), engine  # 16 of 3,456 GPU-h lost: 99.54 % < 99.9 %

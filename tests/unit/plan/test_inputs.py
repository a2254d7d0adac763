"""Input errors name the field; currencies meet only through the dated exchange rate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput
from neocloud.plan.economics import Economics, convert
from neocloud.plan.inputs import apply, parse_pairs
from neocloud.plan.sweep import parse_grid
from tests.unit.plan.toy import operations


def field_of(call) -> str:
    with pytest.raises(InvalidInput) as err:
        call()
    return err.value.details["field"]


def test_every_default_has_a_kind_and_a_source():
    econ = Economics.defaults()
    assert set(econ) == set(ref.PLAN_ECONOMICS)
    for item in econ.values():
        assert item.kind in ("reference", "derived", "assumption")
        assert item.source
    assert "2025-02-28" in econ["fx_usd_per_eur"].source


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"electricty_price": "90"}, "electricty_price"),
        ({"pue": "0.9"}, "pue"),
        ({"debt_share": "1.5"}, "debt_share"),
        ({"tax_rate": "a lot"}, "tax_rate"),
        ({"horizon_years": "2.5"}, "horizon_years"),
        ({"gpu_capex_GB200": "-1"}, "gpu_capex_GB200"),
        ({"fx_usd_per_eur": "0"}, "fx_usd_per_eur"),
        ({"utilisation": "1.2"}, "utilisation"),
        ({"price": "cheap"}, "price"),
    ],
)
def test_a_bad_override_names_its_field(overrides, field):
    assert field_of(lambda: apply(operations(), Economics.defaults(), overrides)) == field


def test_floats_are_refused_as_money():
    assert field_of(lambda: Economics.defaults().override({"electricity_price": 95.5})) == "electricity_price"


def test_an_override_is_marked_with_what_was_given():
    econ = Economics.defaults().override({"electricity_price": "70"})
    assert econ["electricity_price"].value == Decimal(70)
    assert (econ["electricity_price"].kind, econ["electricity_price"].source) == ("override", "given: 70")


def test_euros_become_dollars_only_through_the_rate():
    econ = Economics.defaults().override({"fx_usd_per_eur": "1.25"})
    assert econ.amount("electricity_price", "USD") == Decimal(95) * Decimal("1.25")
    assert econ.amount("electricity_price", "EUR") == Decimal(95)
    assert econ.amount("facility_capex_per_mw", "EUR") == Decimal(10_700_000) / Decimal("1.25")
    assert field_of(lambda: econ.amount("pue", "USD")) == "pue"  # a ratio is not money
    assert field_of(lambda: convert(Decimal(1), "EUR", "GBP", Decimal(1))) == "currency"


def test_parse_pairs_and_grid():
    assert parse_pairs(["pue=1.3", " price = 8 "]) == {"pue": "1.3", "price": "8"}
    assert field_of(lambda: parse_pairs(["pue"])) == "--set"
    assert parse_grid(["price=6,8,utilisation=0.5,0.7"]) == {
        "price": ["6", "8"],
        "utilisation": ["0.5", "0.7"],
    }
    assert parse_grid(["price=6", "seed=1,2"]) == {"price": ["6"], "seed": ["1", "2"]}
    assert field_of(lambda: parse_grid(["prize=6,8"])) == "prize"
    assert field_of(lambda: parse_grid(["6,8"])) == "grid"
    assert field_of(lambda: parse_grid(["price="])) == "price"


def test_utilisation_and_price_overrides_keep_the_mix():
    ops = operations(use={"reserved": 0.4, "on-demand": 0.2}, price={"reserved": "4", "on-demand": "10"})
    assert ops.price == Decimal(6)  # (0.4 × 4 + 0.2 × 10) / 0.6
    changed, _ = apply(ops, Economics.defaults(), {"utilisation": "0.9", "price": "3"})
    assert changed.utilisation == Decimal("0.9")
    assert changed.reserved_share() == ops.reserved_share()
    assert changed.price == Decimal(3)
    assert changed.price_by_product["on-demand"] / changed.price_by_product["reserved"] == Decimal("2.5")


def test_contract_mix_moves_hours_between_products_at_the_same_utilisation():
    ops = operations(use={"reserved": 0.4, "on-demand": 0.2}, price={"reserved": "4", "on-demand": "10"})
    mixed = ops.with_reserved_share("0.5", source="test")
    assert mixed.utilisation == ops.utilisation
    assert mixed.utilisation_by_product["reserved"] == Decimal("0.3")
    assert mixed.price == Decimal(7)


def test_derived_defaults_follow_from_the_reference_figures():
    econ = Economics.defaults()
    assert econ.value("gpu_capex_GB200") == (Decimal(3_400_000) / ref.NVL72_GPUS_PER_RACK).quantize(
        Decimal("0.01")
    )
    facility_per_rack = (
        Decimal(str(ref.GB200_SU_MW)) / ref.GB200_SU_RACKS * Decimal("1.2") * ref.DC_BUILD_USD_PER_MW
    )
    network = (Decimal(2_500_000) - facility_per_rack) / Decimal(3_400_000)
    assert econ.value("network_capex_share") == network.quantize(Decimal("0.001"))
    assert econ.value("facility_capex_per_mw") == ref.DC_BUILD_USD_PER_MW
    assert econ.value("gpu_capex_H100") == ref.H100_CAPEX_USD_PER_GPU
    low, high = ref.ELECTRICITY_EUR_PER_MWH_FRANCE_2026
    assert econ.value("electricity_price") == Decimal(low + high) / 2
    assert econ.value("pue") == Decimal(str(ref.PUE_MODERN_AI_HALL))
    assert econ.value("gpu_depreciation_years") == ref.DEPRECIATION_YEARS["CoreWeave"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"revenue_by_product": {"on-demand": "NaN"}}, "simulation.revenue_by_product.on-demand"),
        ({"sla_credits": "-5"}, "simulation.sla_credits"),
        ({"energy_mwh": float("inf")}, "simulation.energy_mwh"),
        ({"utilisation_by_product": {"on-demand": 1.5}}, "simulation.utilisation_by_product.on-demand"),
        ({"simulated_days": 0}, "simulation"),
    ],
)
def test_a_tampered_saved_run_is_refused_naming_the_field(change, field):
    from neocloud.plan.operations import Operations
    from neocloud.plan.simulate import result_from_json
    from tests.unit.plan.toy import sim_result, site

    data = {**sim_result().to_json(), **change}
    assert field_of(lambda: Operations.from_simulation(result_from_json(data), site())) == field


def test_a_fleet_of_a_model_without_a_capex_figure_asks_for_one_and_takes_it():
    from neocloud.plan.model import default_schedule, project
    from neocloud.plan.operations import Operations
    from tests.unit.plan.toy import sim_result, site

    ops = Operations.from_simulation(sim_result(), site())
    ops = Operations(
        **{
            **{f: getattr(ops, f) for f in ops.__dataclass_fields__},
            "site": type(ops.site)("a100s", {"A100": 100}, Decimal(1), Decimal("1.2")),
        }
    )
    econ = Economics.defaults()
    assert field_of(lambda: project(ops, econ, default_schedule(ops, econ))) == "gpu_capex_A100"
    _, priced = apply(ops, econ, {"gpu_capex_A100": "15000"})
    assert priced["gpu_capex_A100"].value == Decimal(15000)
    assert project(ops, priced, default_schedule(ops, priced)).npv is not None

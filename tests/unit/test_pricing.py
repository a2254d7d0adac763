from decimal import Decimal

import pytest

from neocloud.billing.domain.pricing import RESERVED_TERMS_MONTHS, PriceCatalog, PriceKey, default_catalog
from neocloud.kernel import reference as ref
from neocloud.kernel.errors import Conflict, InvalidInput, NotFound
from neocloud.kernel.products import Product
from tests.builders import T0, at

ON_DEMAND = PriceKey.of("H100", "on-demand")


def usd() -> PriceCatalog:
    return PriceCatalog("USD", Decimal(0)).with_price(ON_DEMAND, "6.00", "USD", T0)


def test_default_catalog_uses_the_reference_list_price():
    catalog = default_catalog()
    assert catalog.price_at(ON_DEMAND, at(days=400)) == Decimal(ref.LIST_PRICE_USD_PER_GPU_HOUR["H100"])


@pytest.mark.parametrize("term", RESERVED_TERMS_MONTHS)
def test_default_reserved_prices_are_40_to_60_percent_of_list(term: int):
    catalog = default_catalog()
    share = catalog.price_at(PriceKey.of("B200", "reserved", term), T0) / Decimal(
        ref.LIST_PRICE_USD_PER_GPU_HOUR["B200"]
    )
    assert Decimal("0.40") <= share <= Decimal("0.60")


def test_longer_reserved_terms_are_not_dearer():
    catalog = default_catalog()
    prices = [catalog.price_at(PriceKey.of("H100", "reserved", t), T0) for t in RESERVED_TERMS_MONTHS]
    assert prices == sorted(prices, reverse=True)


def test_default_spot_uses_the_published_spot_price():
    assert default_catalog().price_at(PriceKey.of("B200", "spot"), T0) == Decimal("4.26")


def test_eur_catalog_carries_french_vat_and_no_price_without_a_rate():
    catalog = default_catalog("EUR")
    assert catalog.tax_rate == Decimal("0.20")
    with pytest.raises(NotFound):
        catalog.price_at(ON_DEMAND, T0)


def test_eur_catalog_converts_the_list_at_the_operators_rate():
    assert default_catalog("EUR", usd_to_currency="0.5").price_at(ON_DEMAND, T0) == Decimal("3.08")


def test_unknown_model_is_invalid_input():
    with pytest.raises(InvalidInput, match="unknown GPU model"):
        PriceKey.of("Z9000", "on-demand")


def test_unknown_product_names_the_field():
    with pytest.raises(InvalidInput) as err:
        PriceKey.of("H100", "lease")
    assert err.value.details["field"] == "product"


def test_reserved_needs_a_listed_term():
    with pytest.raises(InvalidInput) as err:
        PriceKey.of("H100", "reserved", 2)
    assert err.value.details["field"] == "term_months"


def test_only_reserved_has_a_term():
    with pytest.raises(InvalidInput, match="only reserved"):
        PriceKey.of("H100", "spot", 12)


@pytest.mark.parametrize("bad", ["-1.00", "abc", 1.5, "NaN"])
def test_bad_price_names_the_price_field(bad: object):
    with pytest.raises(InvalidInput) as err:
        usd().with_price(ON_DEMAND, bad, "USD", at(days=1))
    assert err.value.details["field"] == "price"


def test_price_in_another_currency_is_refused():
    with pytest.raises(InvalidInput) as err:
        usd().with_price(ON_DEMAND, "5", "EUR", at(days=1))
    assert err.value.details["field"] == "currency"


def test_naive_start_is_refused():
    with pytest.raises(InvalidInput, match="UTC"):
        usd().with_price(ON_DEMAND, "5", "USD", at(days=1).replace(tzinfo=None))


def test_a_change_applies_from_its_date_and_keeps_the_past():
    catalog = usd().with_price(ON_DEMAND, "5.00", "USD", at(days=10))
    assert catalog.price_at(ON_DEMAND, at(days=9, hours=23)) == Decimal("6.00")
    assert catalog.price_at(ON_DEMAND, at(days=10)) == Decimal("5.00")


def test_a_change_at_or_before_the_open_period_start_is_a_conflict():
    with pytest.raises(Conflict) as err:
        usd().with_price(ON_DEMAND, "5.00", "USD", T0)
    assert err.value.details["field"] == "from"


def test_overlapping_bounded_periods_are_a_conflict():
    key = PriceKey.of("B200", "spot")
    catalog = PriceCatalog("USD", Decimal(0)).with_price(key, "4", "USD", at(hours=0), at(hours=2))
    with pytest.raises(Conflict, match="overlaps"):
        catalog.with_price(key, "5", "USD", at(hours=1), at(hours=3))


def test_a_rejected_change_leaves_the_catalog_as_it_was():
    catalog = usd()
    before = catalog.periods
    with pytest.raises(Conflict):
        catalog.with_price(ON_DEMAND, "1", "USD", T0)
    assert catalog.periods == before


def test_hourly_spot_prices_cut_segments_at_each_change():
    key = PriceKey.of("H100", "spot")
    catalog = PriceCatalog("USD", Decimal(0))
    for hour, price in enumerate(["2.00", "2.50", "2.50", "3.00"]):
        catalog = catalog.with_price(key, price, "USD", at(hours=hour))
    segments = catalog.segments(key, at(minutes=30), at(hours=3, minutes=30))
    assert [(s.start, s.end, s.per_gpu_hour) for s in segments] == [
        (at(minutes=30), at(hours=1), Decimal("2.00")),
        (at(hours=1), at(hours=3), Decimal("2.50")),
        (at(hours=3), at(hours=3, minutes=30), Decimal("3.00")),
    ]


def test_tenant_override_wins_only_while_effective():
    override = PriceKey.of("H100", "on-demand", tenant="acme")
    catalog = usd().with_price(override, "4.00", "USD", at(days=5), at(days=10))
    segments = catalog.segments(override, T0, at(days=20))
    assert [(s.end, s.per_gpu_hour, s.override) for s in segments] == [
        (at(days=5), Decimal("6.00"), False),
        (at(days=10), Decimal("4.00"), True),
        (at(days=20), Decimal("6.00"), False),
    ]


def test_other_tenants_pay_list():
    catalog = usd().with_price(PriceKey.of("H100", "on-demand", tenant="acme"), "4.00", "USD", T0)
    assert catalog.price_at(PriceKey.of("H100", "on-demand", tenant="globex"), at(days=1)) == Decimal("6.00")


def test_a_span_without_a_price_is_not_found_naming_the_model():
    with pytest.raises(NotFound) as err:
        usd().segments(PriceKey.of("B200", Product.ON_DEMAND), T0, at(hours=1))
    assert err.value.details["model"] == "B200"


def test_tax_rate_must_be_a_share():
    with pytest.raises(InvalidInput, match="tax_rate"):
        PriceCatalog("EUR", Decimal(20))

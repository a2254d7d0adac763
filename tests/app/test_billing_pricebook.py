from decimal import Decimal

import pytest

from neocloud.billing.adapters.price_book import CatalogPriceBook
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.products import Product
from tests.builders import at, billing


def test_quotes_use_the_catalogs_on_demand_price():
    assert CatalogPriceBook(billing().service).gpu_hour("B200", Product.ON_DEMAND) == Decimal("8.60")


def test_reservations_are_quoted_at_the_one_month_term():
    assert CatalogPriceBook(billing().service).gpu_hour("H100", Product.RESERVED) == Decimal(
        "6.16"
    ) * Decimal("0.60")


def test_a_price_set_now_is_quoted_at_once():
    rig = billing(at(days=3))
    rig.service.set_price(model="H100", product="spot", price="1.99", currency="USD")
    assert CatalogPriceBook(rig.service).gpu_hour("H100", Product.SPOT) == Decimal("1.99")


def test_an_unpriced_model_is_invalid_input_as_the_port_says():
    with pytest.raises(InvalidInput, match="no price"):
        CatalogPriceBook(billing().service).gpu_hour("T4", Product.ON_DEMAND)

"""The control plane's PriceBook read from the billing catalog, so that quotes and reservation totals
use the prices invoices will charge (the one price book: tests, benches and the demo are wired with it too).

A tenant's contract price wins over list while it is effective, exactly as the invoice rates it.
Reservations are quoted at the `reserved_term` (1 month by default, the nearest listed term of the
hours-to-weeks reservations the control plane takes); the invoice prices each at its nearest term.
"""

from __future__ import annotations

from decimal import Decimal

from neocloud.billing.app.service import BillingService
from neocloud.billing.domain.pricing import PriceKey
from neocloud.kernel.errors import InvalidInput, NotFound
from neocloud.kernel.products import Product


class CatalogPriceBook:
    def __init__(self, billing: BillingService, reserved_term: int = 1) -> None:
        self._billing = billing
        self._term = reserved_term

    def currency(self) -> str:
        return self._billing.settings.currency

    def gpu_hour(self, model: str, product: Product, tenant_id: str | None = None) -> Decimal:
        term = self._term if product is Product.RESERVED else None
        key = PriceKey.of(model, product.value, term, tenant_id)
        try:
            return self._billing.catalog().price_at(key, self._billing.clock.now().replace(microsecond=0))
        except NotFound as err:
            raise InvalidInput(err.message, details=err.details) from None

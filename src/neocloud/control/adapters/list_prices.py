"""The default PriceBook: list prices from domain/reference.py until the billing catalog plugs in.

- on-demand: the reference list price per GPU-hour;
- reserved: on-demand less RESERVED_DISCOUNT (50 %, the middle of the 40-60 % of list that reserved
  contracts cost per REFERENCE.md);
- spot: the reference spot price where published, else SPOT_SHARE_OF_LIST (40 %) of on-demand.
"""

from __future__ import annotations

from decimal import Decimal

from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.products import Product

RESERVED_DISCOUNT = Decimal("1") - (Decimal(str(ref.RESERVED_SHARE_OF_ON_DEMAND[0])) + Decimal(str(ref.RESERVED_SHARE_OF_ON_DEMAND[1]))) / 2
SPOT_SHARE_OF_LIST = Decimal(str(ref.RESERVED_SHARE_OF_ON_DEMAND[0]))
_CENT = Decimal("0.01")


class ListPriceBook:
    def __init__(self, currency: str = "USD") -> None:
        self._currency = currency

    def currency(self) -> str:
        return self._currency

    def gpu_hour(self, model: str, product: Product) -> Decimal:
        if model not in ref.LIST_PRICE_USD_PER_GPU_HOUR:
            raise InvalidInput(
                f"no list price for GPU model {model!r}",
                details={"model": model, "priced": sorted(ref.LIST_PRICE_USD_PER_GPU_HOUR)},
            )
        on_demand = Decimal(ref.LIST_PRICE_USD_PER_GPU_HOUR[model])
        if product is Product.ON_DEMAND:
            return on_demand
        if product is Product.RESERVED:
            return (on_demand * (1 - RESERVED_DISCOUNT)).quantize(_CENT)
        spot = ref.SPOT_PRICE_USD_PER_GPU_HOUR.get(model)
        return Decimal(spot) if spot else (on_demand * SPOT_SHARE_OF_LIST).quantize(_CENT)

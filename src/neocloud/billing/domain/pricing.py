"""The price catalog: effective-dated prices per GPU model and product, with per-tenant contract overrides.

A price is per GPU-hour, a Decimal that may carry more precision than the currency (reserved prices are
shares of list). Prices are effective-dated periods `[start, end)`: setting a new price closes the open
period of the same key at the new price's start, and never changes anything before it, so re-rating the
past gives the same result. Where a tenant has an override effective at an instant, it wins over list.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from neocloud.kernel import reference as ref
from neocloud.kernel.errors import Conflict, InvalidInput, NotFound
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.ids import TenantId
from neocloud.kernel.money import check_currency, parse_decimal
from neocloud.kernel.periods import require_utc_second
from neocloud.kernel.products import Product

RESERVED_TERMS_MONTHS: Final[tuple[int, ...]] = tuple(sorted(ref.RESERVED_SHARE_BY_TERM_MONTHS))


def parse_product(value: str) -> Product:
    try:
        return Product(value)
    except ValueError:
        raise InvalidInput(
            f"product: unknown product {value!r}",
            details={"field": "product", "value": value, "known": [p.value for p in Product]},
        ) from None


@dataclass(frozen=True, slots=True)
class PriceKey:
    """What a price applies to. `term_months` is set for reserved and only for reserved; `tenant` marks a
    contract override."""

    model: str
    product: Product
    term_months: int | None = None
    tenant: TenantId | None = None

    @staticmethod
    def of(
        model: str, product: Product | str, term_months: int | None = None, tenant: str | None = None
    ) -> PriceKey:
        """A validated key: the model's canonical name, a known product, a listed reserved term."""
        canonical = gpu_model(model).name
        prod = product if isinstance(product, Product) else parse_product(product)
        if prod is Product.RESERVED:
            if term_months not in RESERVED_TERMS_MONTHS:
                raise InvalidInput(
                    f"term_months: reserved prices need a term in {list(RESERVED_TERMS_MONTHS)} (got {term_months})",
                    details={
                        "field": "term_months",
                        "value": term_months,
                        "known": list(RESERVED_TERMS_MONTHS),
                    },
                )
        elif term_months is not None:
            raise InvalidInput(
                f"term_months: only reserved prices have a term ({prod.value} given {term_months})",
                details={"field": "term_months", "value": term_months},
            )
        if tenant is not None and not tenant.strip():
            raise InvalidInput("tenant: must not be empty", details={"field": "tenant"})
        return PriceKey(canonical, prod, term_months, TenantId(tenant) if tenant is not None else None)

    def list_key(self) -> PriceKey:
        return replace(self, tenant=None)

    def label(self) -> str:
        term = f" {self.term_months}mo" if self.term_months else ""
        who = f" for {self.tenant}" if self.tenant else ""
        return f"{self.model} {self.product.value}{term}{who}"


@dataclass(frozen=True, slots=True)
class PricePeriod:
    """One price for `key` over `[start, end)` (`end` None: until superseded)."""

    key: PriceKey
    per_gpu_hour: Decimal
    currency: str
    start: datetime
    end: datetime | None = None

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass(frozen=True, slots=True)
class PriceSegment:
    """A stretch of time `[start, end)` over which one unit price applies."""

    start: datetime
    end: datetime
    per_gpu_hour: Decimal
    override: bool


class PriceCatalog:
    """Immutable: `with_price` returns a new catalog (so a rejected change leaves nothing half-written)."""

    def __init__(self, currency: str, tax_rate: Decimal, periods: Iterable[PricePeriod] = ()) -> None:
        self.currency = check_currency(currency)
        self.tax_rate = parse_decimal(tax_rate, field="tax_rate")
        if self.tax_rate >= 1:
            raise InvalidInput(
                "tax_rate: must be below 1 (a share, e.g. 0.20)", details={"field": "tax_rate"}
            )
        self._by_key: dict[PriceKey, list[PricePeriod]] = {}
        for period in periods:
            self._by_key.setdefault(period.key, []).append(period)
        for plist in self._by_key.values():
            plist.sort(key=lambda p: p.start)
        self._starts = {k: [p.start for p in v] for k, v in self._by_key.items()}

    @property
    def period_count(self) -> int:
        """How many price periods the catalog holds (a change adds one; none is ever removed)."""
        return sum(len(v) for v in self._by_key.values())

    @property
    def periods(self) -> tuple[PricePeriod, ...]:
        return tuple(p for k in sorted(self._by_key, key=_key_order) for p in self._by_key[k])

    def with_price(
        self,
        key: PriceKey,
        price: object,
        currency: str,
        start: datetime,
        end: datetime | None = None,
    ) -> PriceCatalog:
        """The catalog with `price` for `key` from `start` (to `end`).

        An open-ended price supersedes the key's open period from `start` on. Anything else that would
        overlap an existing period of the key, or start at or before the open period's start (rewriting
        the past), is a Conflict. Bad values are InvalidInput naming the field.
        """
        amount = parse_decimal(price, field="price")
        if check_currency(currency) != self.currency:
            raise InvalidInput(
                f"currency: this catalog is in {self.currency}, not {currency}",
                details={"field": "currency", "value": currency, "expected": self.currency},
            )
        require_utc_second(start, "from")
        if end is not None:
            require_utc_second(end, "to")
            if end <= start:
                raise InvalidInput("to: must be after from", details={"field": "to"})
        existing = self._by_key.get(key, [])
        kept: list[PricePeriod] = []
        for period in existing:
            if end is None and period.end is None and period.start < start:
                kept.append(replace(period, end=start))
                continue
            p_end = period.end
            overlaps = (p_end is None or start < p_end) and (end is None or period.start < end)
            if overlaps:
                raise Conflict(
                    f"price period for {key.label()} from {start.isoformat()} overlaps the one from "
                    f"{period.start.isoformat()}",
                    details={"field": "from", "key": key.label(), "existing_from": period.start.isoformat()},
                )
            kept.append(period)
        kept.append(PricePeriod(key, amount, currency, start, end))
        kept.sort(key=lambda p: p.start)
        out = PriceCatalog(self.currency, self.tax_rate)
        out._by_key = {**self._by_key, key: kept}
        out._starts = {**self._starts, key: [p.start for p in kept]}
        return out

    def price_at(self, key: PriceKey, at: datetime) -> Decimal:
        """The unit price for `key` at `at`: the tenant's override where one applies, else list."""
        segments = self.segments(key, at, at.replace(microsecond=0) + _ONE_SECOND)
        return segments[0].per_gpu_hour

    def _find(self, key: PriceKey, at: datetime) -> PricePeriod | None:
        starts = self._starts.get(key)
        if not starts:
            return None
        i = bisect.bisect_right(starts, at) - 1
        if i < 0:
            return None
        period = self._by_key[key][i]
        return period if period.covers(at) else None

    def _next_start(self, key: PriceKey, after: datetime) -> datetime | None:
        starts = self._starts.get(key)
        if not starts:
            return None
        i = bisect.bisect_right(starts, after)
        return starts[i] if i < len(starts) else None

    def segments(self, key: PriceKey, start: datetime, end: datetime) -> list[PriceSegment]:
        """`[start, end)` cut where the applicable price changes. NotFound names the key and instant when
        some part of the span has no price."""
        list_key = key.list_key()
        out: list[PriceSegment] = []
        t = start
        while t < end:
            chosen: PricePeriod | None = None
            override = False
            if key.tenant is not None:
                chosen = self._find(key, t)
                override = chosen is not None
            if chosen is None:
                chosen = self._find(list_key, t)
            if chosen is None:
                raise NotFound(
                    f"no price for {key.label()} at {t.isoformat()}",
                    details={"model": key.model, "product": key.product.value, "at": t.isoformat()},
                )
            stop = end if chosen.end is None else min(end, chosen.end)
            if not override and key.tenant is not None:
                upcoming = self._next_start(key, t)
                if upcoming is not None:
                    stop = min(stop, upcoming)
            if out and out[-1].per_gpu_hour == chosen.per_gpu_hour and out[-1].override == override:
                out[-1] = replace(out[-1], end=stop)
            else:
                out.append(PriceSegment(t, stop, chosen.per_gpu_hour, override))
            t = stop
        return out


def _key_order(key: PriceKey) -> tuple[str, str, int, str]:
    return (key.model, key.product.value, key.term_months or 0, key.tenant or "")


_ONE_SECOND: Final = timedelta(seconds=1)


def list_prices_usd() -> dict[PriceKey, Decimal]:
    """The default USD list: on-demand from REFERENCE.md, reserved by term from the discount schedule,
    spot where published (else the documented estimate share of on-demand)."""
    prices: dict[PriceKey, Decimal] = {}
    spot_share = Decimal(ref.SPOT_SHARE_OF_ON_DEMAND_ESTIMATE)
    for model, text in ref.LIST_PRICE_USD_PER_GPU_HOUR.items():
        on_demand = Decimal(text)
        prices[PriceKey.of(model, Product.ON_DEMAND)] = on_demand
        for term, share in ref.RESERVED_SHARE_BY_TERM_MONTHS.items():
            prices[PriceKey.of(model, Product.RESERVED, term)] = on_demand * Decimal(share)
        spot = ref.SPOT_PRICE_USD_PER_GPU_HOUR.get(model)
        prices[PriceKey.of(model, Product.SPOT)] = Decimal(spot) if spot else on_demand * spot_share
    return prices


def default_catalog(currency: str = "USD", *, usd_to_currency: object = None) -> PriceCatalog:
    """The catalog a fresh installation starts from, effective from `reference.LIST_PRICES_FROM`.

    USD: the list prices, no tax. EUR: French VAT (20 %); prices are the USD list converted at
    `usd_to_currency` when the operator gives a rate, else none (the operator sets them): the platform
    holds no exchange rate of its own.
    """
    check_currency(currency)
    start = datetime.fromisoformat(ref.LIST_PRICES_FROM)
    if currency == "USD":
        catalog = PriceCatalog("USD", Decimal(0))
        rate = Decimal(1)
    else:
        catalog = PriceCatalog(currency, Decimal(ref.FRENCH_VAT_RATE))
        if usd_to_currency is None:
            return catalog
        rate = parse_decimal(usd_to_currency, field="usd_to_currency")
    for key, price in list_prices_usd().items():
        catalog = catalog.with_price(key, price * rate, currency, start)
    return catalog

"""How billing runs (`BillingSettings`: currency, ledger grid, settle delay, batch size) and what one
metering pass reports (`MeterReport`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.money import check_currency
from neocloud.kernel.periods import check_grid


@dataclass(frozen=True, slots=True)
class BillingSettings:
    """`currency` of the catalog tenants are billed in; `grid_seconds` how the ledger is cut (it divides
    a day); `usd_to_currency` converts the USD list for a non-USD default catalog (None: operator sets);
    `settle_delay_seconds` how far behind the clock metering settles, so that an event row committed a
    little after its own time is still seen before the usage around it is written; `finalize_batch`
    how many tenants' invoices one finalization transaction writes."""

    currency: str = "USD"
    grid_seconds: int = 86_400
    usd_to_currency: str | None = None
    settle_delay_seconds: int = 300
    finalize_batch: int = 100

    def __post_init__(self) -> None:
        check_currency(self.currency)
        check_grid(self.grid_seconds)
        if self.finalize_batch < 1:
            raise InvalidInput("finalize_batch: must be >= 1", details={"field": "finalize_batch"})
        if self.settle_delay_seconds < 0:
            raise InvalidInput(
                "settle_delay_seconds: must be >= 0", details={"field": "settle_delay_seconds"}
            )


@dataclass(frozen=True, slots=True)
class MeterReport:
    until: datetime
    entries_added: int
    incidents_added: int

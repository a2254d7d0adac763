"""In-memory billing adapters: the BillingStore, a lifecycle event log and a manual clock.

Shared by tests, the demo and the benchmark (STYLE.md example 8).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from neocloud.billing.app.service import BillingStore, LifecycleEventSource
from neocloud.billing.domain.invoices import Credit, Invoice, check_replacement
from neocloud.billing.domain.metering import Incident, LifecycleEvent, UsageEntry, coverage
from neocloud.billing.domain.pricing import PriceCatalog
from neocloud.infra.clock import ManualClock
from neocloud.kernel.clock import Clock
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import AllocationId, InvoiceId, TenantId
from neocloud.kernel.periods import Period


@dataclass
class MemoryEventLog:
    """An append-only list of lifecycle events, kept in time order."""

    events: list[LifecycleEvent] = field(default_factory=list)

    def append(self, *events: LifecycleEvent) -> None:
        for event in events:
            keys = [e.at for e in self.events]
            self.events.insert(bisect.bisect_right(keys, event.at), event)

    def extend(self, events: Iterable[LifecycleEvent]) -> None:
        self.events.extend(events)
        self.events.sort(key=lambda e: e.at)

    def lifecycle_events(self, until: datetime, tenant: TenantId | None = None) -> list[LifecycleEvent]:
        stop = bisect.bisect_right([e.at for e in self.events], until)
        return [e for e in self.events[:stop] if tenant is None or e.tenant_id == tenant]


class MemoryBillingStore:
    """Dicts behind the BillingStore port. `atomic()` keeps an undo log of the writes made inside it and
    plays it back if the block raises, so a failed use case leaves nothing half-written."""

    def __init__(self) -> None:
        self._catalogs: dict[str, PriceCatalog] = {}
        self._usage: dict[str, UsageEntry] = {}
        self._by_allocation: dict[AllocationId, list[UsageEntry]] = {}
        self._incidents: dict[str, Incident] = {}
        self._credits: dict[str, Credit] = {}
        self._invoices: dict[InvoiceId, Invoice] = {}
        self._undo: list[Callable[[], None]] | None = None

    @contextmanager
    def atomic(self) -> Iterator[None]:
        if self._undo is not None:  # nested: part of the outer transaction
            yield
            return
        self._undo = []
        try:
            yield
        except BaseException:
            for undo in reversed(self._undo):
                undo()
            raise
        finally:
            self._undo = None

    def _record(self, undo: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(undo)

    def _put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if key in table:
            old = table[key]
            self._record(lambda: table.__setitem__(key, old))
        else:
            self._record(lambda: table.pop(key))
        table[key] = value

    def load_catalog(self, currency: str) -> PriceCatalog | None:
        return self._catalogs.get(currency)

    def save_catalog(self, catalog: PriceCatalog) -> None:
        self._put(self._catalogs, catalog.currency, catalog)

    def append_usage(self, entries: Iterable[UsageEntry]) -> int:
        added = 0
        for entry in entries:
            if entry.id in self._usage:
                continue
            self._put(self._usage, entry.id, entry)
            rows = self._by_allocation.setdefault(entry.allocation_id, [])
            rows.append(entry)
            self._record(_dropper(rows))
            added += 1
        return added

    def usage(self, *, tenant: TenantId | None = None, period: Period | None = None) -> list[UsageEntry]:
        return [
            e
            for e in self._usage.values()
            if (tenant is None or e.tenant_id == tenant)
            and (period is None or (e.start < period.end and period.start < e.end))
        ]

    def covered(self, allocations: Iterable[AllocationId]) -> dict[AllocationId, list[tuple[int, int]]]:
        return coverage(e for a in allocations for e in self._by_allocation.get(a, ()))

    def append_incidents(self, incidents: Iterable[Incident]) -> int:
        added = 0
        for incident in incidents:
            if incident.id not in self._incidents:
                self._put(self._incidents, incident.id, incident)
                added += 1
        return added

    def incidents(self) -> list[Incident]:
        return list(self._incidents.values())

    def add_credit(self, credit: Credit) -> None:
        if credit.id in self._credits:
            raise Conflict(f"credit {credit.id!r} exists", details={"id": credit.id})
        self._put(self._credits, credit.id, credit)

    def credits(self, *, tenant: TenantId | None = None) -> list[Credit]:
        return [c for c in self._credits.values() if tenant is None or c.tenant_id == tenant]

    def get_invoice(self, invoice_id: InvoiceId) -> Invoice | None:
        return self._invoices.get(invoice_id)

    def save_invoice(self, invoice: Invoice) -> None:
        """Insert, or replace with a legal successor: a finalized invoice's content never changes."""
        check_replacement(self._invoices.get(invoice.id), invoice)
        self._put(self._invoices, invoice.id, invoice)

    def invoices(self, *, tenant: TenantId | None = None) -> list[Invoice]:
        return [i for i in self._invoices.values() if tenant is None or i.tenant_id == tenant]


def _dropper(rows: list[UsageEntry]) -> Callable[[], None]:
    """Undo of an append: drop the last row."""

    def drop() -> None:
        rows.pop()

    return drop


def _conforms(
    store: MemoryBillingStore, log: MemoryEventLog, clock: ManualClock
) -> tuple[BillingStore, LifecycleEventSource, Clock]:
    """For the type checker: the memory adapters implement the billing ports."""
    return store, log, clock

"""In-memory billing adapters: the BillingStore, a lifecycle event log and a manual clock.

Shared by tests, the demo and the benchmark (STYLE.md example 8).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from neocloud.billing.app.ports import BillingStore, BillingUnit, LifecycleEventSource
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


LOCK_TIMEOUT_S = 30.0  # as SQLite's busy timeout: a unit waits this long for another one to end


@dataclass
class _Records:
    """The store's dicts (shared by all its units)."""

    catalogs: dict[str, PriceCatalog] = field(default_factory=dict)
    usage: dict[str, UsageEntry] = field(default_factory=dict)
    by_allocation: dict[AllocationId, list[UsageEntry]] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    credits: dict[str, Credit] = field(default_factory=dict)
    invoices: dict[InvoiceId, Invoice] = field(default_factory=dict)


class MemoryBillingUnit:
    """One unit of work over the store's dicts, used by the call that opened it only. It keeps its own
    undo log of the writes made through it, which the store plays back if the unit's block raises."""

    def __init__(self, records: _Records) -> None:
        self._r = records
        self._undo: list[Callable[[], None]] = []

    def rollback(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def _put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if key in table:
            old = table[key]
            self._undo.append(lambda: table.__setitem__(key, old))
        else:
            self._undo.append(lambda: table.pop(key))
        table[key] = value

    def load_catalog(self, currency: str) -> PriceCatalog | None:
        return self._r.catalogs.get(currency)

    def catalog_version(self, currency: str) -> str | None:
        catalog = self._r.catalogs.get(currency)
        return None if catalog is None else f"{catalog.tax_rate}:{catalog.period_count}"

    def save_catalog(self, catalog: PriceCatalog) -> None:
        self._put(self._r.catalogs, catalog.currency, catalog)

    def append_usage(self, entries: Iterable[UsageEntry]) -> int:
        added = 0
        for entry in entries:
            if entry.id in self._r.usage:
                continue
            self._put(self._r.usage, entry.id, entry)
            rows = self._r.by_allocation.setdefault(entry.allocation_id, [])
            rows.append(entry)
            self._undo.append(_dropper(rows))
            added += 1
        return added

    def usage(self, *, tenant: TenantId | None = None, period: Period | None = None) -> list[UsageEntry]:
        return [
            e
            for e in self._r.usage.values()
            if (tenant is None or e.tenant_id == tenant)
            and (period is None or (e.start < period.end and period.start < e.end))
        ]

    def covered(self, allocations: Iterable[AllocationId]) -> dict[AllocationId, list[tuple[int, int]]]:
        return coverage(e for a in allocations for e in self._r.by_allocation.get(a, ()))

    def append_incidents(self, incidents: Iterable[Incident]) -> int:
        added = 0
        for incident in incidents:
            if incident.id not in self._r.incidents:
                self._put(self._r.incidents, incident.id, incident)
                added += 1
        return added

    def incidents(self) -> list[Incident]:
        return list(self._r.incidents.values())

    def add_credit(self, credit: Credit) -> None:
        if credit.id in self._r.credits:
            raise Conflict(f"credit {credit.id!r} exists", details={"id": credit.id})
        self._put(self._r.credits, credit.id, credit)

    def credits(self, *, tenant: TenantId | None = None) -> list[Credit]:
        return [c for c in self._r.credits.values() if tenant is None or c.tenant_id == tenant]

    def next_credit_number(self, tenant: TenantId) -> int:
        return len(self.credits(tenant=tenant)) + 1  # the unit holds the store's lock

    def get_invoice(self, invoice_id: InvoiceId) -> Invoice | None:
        return self._r.invoices.get(invoice_id)

    def lock_invoice(self, invoice_id: InvoiceId) -> Invoice | None:
        return self.get_invoice(invoice_id)  # the unit holds the store's lock

    def save_invoice(self, invoice: Invoice) -> None:
        """Insert, or replace with a legal successor: a finalized invoice's content never changes."""
        check_replacement(self._r.invoices.get(invoice.id), invoice)
        self._put(self._r.invoices, invoice.id, invoice)

    def invoices(self, *, tenant: TenantId | None = None) -> list[Invoice]:
        return [i for i in self._r.invoices.values() if tenant is None or i.tenant_id == tenant]


class MemoryBillingStore:
    """Dicts behind the BillingStore port, safe to share between threads. A unit of work holds the
    store's lock from its start to its end (memory's single writer, as SQLite's), so units never see
    each other's writes half-done; each store method is a unit of its own. Units do not nest: the store
    used directly inside one of its own units waits for it, and gives up after LOCK_TIMEOUT_S."""

    def __init__(self) -> None:
        self._records = _Records()
        self._lock = threading.Lock()

    @contextmanager
    def atomic(self) -> Iterator[MemoryBillingUnit]:
        if not self._lock.acquire(timeout=LOCK_TIMEOUT_S):
            raise TimeoutError(f"memory billing store: another unit of work held it for {LOCK_TIMEOUT_S}s")
        unit = MemoryBillingUnit(self._records)
        try:
            yield unit
        except BaseException:
            unit.rollback()
            raise
        finally:
            self._lock.release()

    def load_catalog(self, currency: str) -> PriceCatalog | None:
        with self.atomic() as unit:
            return unit.load_catalog(currency)

    def catalog_version(self, currency: str) -> str | None:
        with self.atomic() as unit:
            return unit.catalog_version(currency)

    def save_catalog(self, catalog: PriceCatalog) -> None:
        with self.atomic() as unit:
            unit.save_catalog(catalog)

    def append_usage(self, entries: Iterable[UsageEntry]) -> int:
        with self.atomic() as unit:
            return unit.append_usage(entries)

    def usage(self, *, tenant: TenantId | None = None, period: Period | None = None) -> list[UsageEntry]:
        with self.atomic() as unit:
            return unit.usage(tenant=tenant, period=period)

    def covered(self, allocations: Iterable[AllocationId]) -> dict[AllocationId, list[tuple[int, int]]]:
        with self.atomic() as unit:
            return unit.covered(allocations)

    def append_incidents(self, incidents: Iterable[Incident]) -> int:
        with self.atomic() as unit:
            return unit.append_incidents(incidents)

    def incidents(self) -> list[Incident]:
        with self.atomic() as unit:
            return unit.incidents()

    def add_credit(self, credit: Credit) -> None:
        with self.atomic() as unit:
            unit.add_credit(credit)

    def credits(self, *, tenant: TenantId | None = None) -> list[Credit]:
        with self.atomic() as unit:
            return unit.credits(tenant=tenant)

    def get_invoice(self, invoice_id: InvoiceId) -> Invoice | None:
        with self.atomic() as unit:
            return unit.get_invoice(invoice_id)

    def save_invoice(self, invoice: Invoice) -> None:
        with self.atomic() as unit:
            unit.save_invoice(invoice)

    def invoices(self, *, tenant: TenantId | None = None) -> list[Invoice]:
        with self.atomic() as unit:
            return unit.invoices(tenant=tenant)


def _dropper(rows: list[UsageEntry]) -> Callable[[], None]:
    """Undo of an append: drop the last row."""

    def drop() -> None:
        rows.pop()

    return drop


def _conforms(
    store: MemoryBillingStore, unit: MemoryBillingUnit, log: MemoryEventLog, clock: ManualClock
) -> tuple[BillingStore, BillingUnit, LifecycleEventSource, Clock]:
    """For the type checker: the memory adapters implement the billing ports."""
    return store, unit, log, clock

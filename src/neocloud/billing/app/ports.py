"""Billing's ports (the clock is kernel.clock.Clock): where lifecycle events come from, where records are kept, documents.

One `BillingStore` is shared by every thread of a server, so it holds no transaction: each of its own
methods is one short transaction, and `atomic()` opens a `BillingUnit`, a transaction that belongs to
the call that opened it alone (a value handed to that call, never state on the store). One thread's
failure can then only ever roll back its own writes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

from neocloud.billing.domain.invoices import Credit, Invoice
from neocloud.billing.domain.metering import Incident, LifecycleEvent, UsageEntry
from neocloud.billing.domain.pricing import PriceCatalog
from neocloud.kernel.ids import AllocationId, InvoiceId, ProjectId, TenantId
from neocloud.kernel.periods import Period


class LifecycleEventSource(Protocol):
    """Where allocation lifecycle events come from (the control plane's event rows, or memory)."""

    def lifecycle_events(self, until: datetime, tenant: TenantId | None = None) -> Iterable[LifecycleEvent]:
        """Events at or before `until` (of one tenant's allocations when given), in time order."""
        ...


@runtime_checkable
class MeteringCursor(Protocol):
    """A LifecycleEventSource that can leave out what metering has finished with, so that a metering
    pass reads what changed and what is still running rather than the whole history.

    `unmetered_events(until)` gives, in time order, every event at or before `until` of each
    allocation that has not been `metered()` yet, and the allocations among them whose events reach a
    terminal state by `until` (their bill is then complete: nothing after a terminal state changes it).
    Once the ledger holds those allocations' usage, `metered(done)` says so, and they are left out of
    later reads. An allocation is left out only after a pass that saw its terminal event succeeded."""

    def unmetered_events(self, until: datetime) -> tuple[list[LifecycleEvent], Collection[AllocationId]]: ...
    def metered(self, done: Collection[AllocationId]) -> None: ...


class BillingRecords(Protocol):
    """Durable billing records. `append_*` ignore rows whose id is already stored (which is what makes
    replays harmless); `add_credit` and `save_invoice` refuse a credit id already stored and any change
    to a finalized invoice's content (Conflict)."""

    def load_catalog(self, currency: str) -> PriceCatalog | None: ...
    def catalog_version(self, currency: str) -> str | None:
        """A value that changes whenever the stored catalog of `currency` changes (None: none is stored),
        read in one tiny query, so that every server process can keep the catalog in memory and still
        see a price set by another one at its next read."""
        ...

    def save_catalog(self, catalog: PriceCatalog) -> None: ...
    def append_usage(self, entries: Iterable[UsageEntry]) -> int: ...
    def usage(self, *, tenant: TenantId | None = None, period: Period | None = None) -> list[UsageEntry]: ...
    def covered(self, allocations: Iterable[AllocationId]) -> dict[AllocationId, list[tuple[int, int]]]:
        """Per allocation, the `[start, end)` epoch-second spans its ledger entries cover (adjacent
        entries may be merged)."""
        ...

    def append_incidents(self, incidents: Iterable[Incident]) -> int: ...
    def incidents(self) -> list[Incident]: ...
    def add_credit(self, credit: Credit) -> None: ...
    def credits(self, *, tenant: TenantId | None = None) -> list[Credit]: ...
    def get_invoice(self, invoice_id: InvoiceId) -> Invoice | None: ...
    def save_invoice(self, invoice: Invoice) -> None: ...
    def invoices(self, *, tenant: TenantId | None = None) -> list[Invoice]: ...


class BillingUnit(BillingRecords, Protocol):
    """One transaction, used by the one call that opened it: its writes commit together when the
    `with store.atomic() as unit:` block ends normally and none of them does if it raises. It reads its
    own writes. Locks taken inside it are held until it ends:

    - `load_catalog` locks the catalog, so concurrent price changes serialise;
    - `next_credit_number` locks the tenant's credits, so concurrent issuers get distinct numbers;
    - `lock_invoice` locks one invoice, so credit notes against it serialise.
    """

    def next_credit_number(self, tenant: TenantId) -> int:
        """1 + how many credits the tenant has: the number of its next credit (credits are never
        deleted, so numbers are never reused)."""
        ...

    def lock_invoice(self, invoice_id: InvoiceId) -> Invoice | None: ...


class BillingStore(BillingRecords, Protocol):
    """Safe to share between threads. Each method of BillingRecords is one transaction of its own;
    `atomic()` opens a new unit of work for its caller (and never joins another one, even on the same
    thread: use the unit inside the block, not the store)."""

    def atomic(self) -> AbstractContextManager[BillingUnit]: ...


class InvoiceRenderer(Protocol):
    """Invoice documents (adapters/invoice_render.py); `tenant_name` is who it is billed to (None: the
    tenant id is all there is)."""

    def csv(self, invoice: Invoice, tenant_name: str | None = None) -> str: ...
    def html(self, invoice: Invoice, tenant_name: str | None = None) -> str: ...


class TenantDirectory(Protocol):
    """Who the tenants and projects that billing records name are, as people know them: the control
    plane owns tenants and projects, and billing asks through this port (adapters/tenant_directory.py
    implements it over the control plane's use of its own store), never by reading their tables."""

    def resolve_tenant(self, ref: str) -> TenantId | None:
        """The tenant whose id is `ref`, else the one named `ref`; None when there is neither."""
        ...

    def tenant_names(self, ids: Iterable[TenantId]) -> dict[TenantId, str]:
        """The name of each of `ids` that exists (unknown ids are left out)."""
        ...

    def project_names(self, tenant: TenantId) -> dict[ProjectId, str]:
        """The names of `tenant`'s projects, and of no other tenant's."""
        ...

"""The SQL BillingStore (SQLite or PostgreSQL), shared by every thread of a server.

The store holds an engine and nothing else: `atomic()` opens a new database transaction for its caller
and hands it over as a SqlBillingUnit (every write made through the unit commits together or not at all,
so a process killed mid-way leaves the previous state); each other method is one short transaction of
its own (the reads read-only: on SQLite they read beside the writer, never behind it). No
transaction is ever kept on the store, so one thread's failure can never roll back another
thread's write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from neocloud.billing.adapters.sql.unit import SqlBillingUnit, catalog_version_of, catalog_version_part
from neocloud.billing.app.ports import BillingStore
from neocloud.billing.domain.invoices import Credit, Invoice
from neocloud.billing.domain.metering import Incident, UsageEntry
from neocloud.billing.domain.pricing import PriceCatalog
from neocloud.infra.counters import Counters
from neocloud.infra.engine import read_only
from neocloud.kernel.ids import AllocationId, InvoiceId, TenantId
from neocloud.kernel.periods import Period


class SqlBillingStore:
    def __init__(self, engine: Engine, counters: Counters | None = None) -> None:
        self.engine = engine
        self.counters = counters

    @contextmanager
    def atomic(self) -> Iterator[SqlBillingUnit]:
        """A unit of work: committed when the block ends normally, rolled back if it raises."""
        with self.engine.begin() as conn, _plan_each_time(conn):
            yield SqlBillingUnit(conn)

    @contextmanager
    def _once(self) -> Iterator[SqlBillingUnit]:
        """The transaction of one store method (it takes no locks beyond the writes' own)."""
        with self.engine.begin() as conn, _plan_each_time(conn):
            yield SqlBillingUnit(conn, locking=False)

    def load_catalog(self, currency: str) -> PriceCatalog | None:
        with self._read() as unit:
            return unit.load_catalog(currency)

    @contextmanager
    def _read(self) -> Iterator[SqlBillingUnit]:
        """A read-only transaction (on SQLite it begins DEFERRED, beside the writer, not behind it)."""
        with self.engine.connect() as conn:
            read_only(conn)
            with conn.begin(), _plan_each_time(conn):
                yield SqlBillingUnit(conn, locking=False)

    def catalog_version(self, currency: str) -> str | None:
        """One statement, read on every quote and reservation. With `counters` (what bootstrap wires) a
        counter of infra.counters: outside any transaction, and within a read-only request the statement
        that read the caller's auth epoch. Without: on PostgreSQL in autocommit (one round trip instead
        of BEGIN, SELECT, ROLLBACK); on SQLite in a read-only transaction."""
        if self.counters is not None:
            rate, periods = self.counters.read(f"catalog:{currency}", lambda: catalog_version_part(currency))
            return catalog_version_of(rate, periods)
        if self.engine.dialect.name != "postgresql":
            with self._read() as unit:
                return unit.catalog_version(currency)
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            return SqlBillingUnit(conn, locking=False).catalog_version(currency)

    def save_catalog(self, catalog: PriceCatalog) -> None:
        with self._once() as unit:
            unit.save_catalog(catalog)

    def append_usage(self, entries: Iterable[UsageEntry]) -> int:
        with self._once() as unit:
            return unit.append_usage(entries)

    def usage(self, *, tenant: TenantId | None = None, period: Period | None = None) -> list[UsageEntry]:
        with self._read() as unit:
            return unit.usage(tenant=tenant, period=period)

    def covered(self, allocations: Iterable[AllocationId]) -> dict[AllocationId, list[tuple[int, int]]]:
        with self._read() as unit:
            return unit.covered(allocations)

    def append_incidents(self, incidents: Iterable[Incident]) -> int:
        with self._once() as unit:
            return unit.append_incidents(incidents)

    def incidents(self) -> list[Incident]:
        with self._read() as unit:
            return unit.incidents()

    def add_credit(self, credit: Credit) -> None:
        with self._once() as unit:
            unit.add_credit(credit)

    def credits(self, *, tenant: TenantId | None = None) -> list[Credit]:
        with self._read() as unit:
            return unit.credits(tenant=tenant)

    def get_invoice(self, invoice_id: InvoiceId) -> Invoice | None:
        with self._read() as unit:
            return unit.get_invoice(invoice_id)

    def save_invoice(self, invoice: Invoice) -> None:
        with self._once() as unit:
            unit.save_invoice(invoice)

    def invoices(self, *, tenant: TenantId | None = None) -> list[Invoice]:
        with self._read() as unit:
            return unit.invoices(tenant=tenant)


@contextmanager
def _plan_each_time(conn: Connection) -> Iterator[None]:
    """No server-side prepared statements on PostgreSQL while billing works: a generic plan made while
    the ledger was small (a sequential scan) would otherwise be reused as it grows within one long
    transaction. The pooled connection gets its setting back afterwards."""
    driver = conn.connection.dbapi_connection
    if conn.dialect.name != "postgresql" or driver is None or not hasattr(driver, "prepare_threshold"):
        yield
        return
    before = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = before


def _conforms(store: SqlBillingStore) -> BillingStore:
    """For the type checker: SqlBillingStore is a BillingStore."""
    return store

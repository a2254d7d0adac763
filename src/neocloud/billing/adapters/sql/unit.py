"""One billing transaction on SQLite or PostgreSQL: the BillingUnit that `SqlBillingStore.atomic()` hands
to its caller.

A unit holds its own Connection, inside one transaction that the store begins and ends; it is used by
the call that opened it only, never kept on anything shared. Appends ignore ids already stored (INSERT …
ON CONFLICT DO NOTHING), which makes metering replays and a second finalization harmless even across
processes.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from neocloud.billing.adapters.sql import tables as bt
from neocloud.billing.adapters.sql.rows import entry_of, invoice_of, invoice_row
from neocloud.billing.app.ports import BillingUnit
from neocloud.billing.domain.invoices import Credit, Invoice, check_replacement
from neocloud.billing.domain.metering import Incident, UsageEntry
from neocloud.billing.domain.pricing import PriceCatalog, PriceKey, PricePeriod
from neocloud.kernel.ids import AllocationId, InvoiceId, ProjectId, TenantId
from neocloud.kernel.money import Money
from neocloud.kernel.periods import Period, to_epoch
from neocloud.kernel.products import Product

CHUNK = 500
_CATALOG_VERSION: Any = None


def _catalog_version() -> Any:
    """`SqlBillingUnit.catalog_version`'s statement, built on first use and then reused: it is read on
    every quote and reservation, and building a select costs more than executing a cached one."""
    global _CATALOG_VERSION
    if _CATALOG_VERSION is None:
        _CATALOG_VERSION = select(*catalog_version_part(bindparam("currency")))
    return _CATALOG_VERSION


def catalog_version_part(currency: Any) -> tuple[Any, Any]:
    """`SqlBillingUnit.catalog_version`'s two values as scalar subqueries (its statement, and a counter
    of infra.counters): the tax rate (NULL without a catalog row) and the number of price periods.
    `currency` is a value or a bind parameter."""
    c, p = bt.billing_catalogs.c, bt.billing_prices.c
    rate = select(c.tax_rate).where(c.currency == currency).scalar_subquery()
    periods = select(func.count()).select_from(bt.billing_prices).where(p.currency == currency)
    return rate, periods.scalar_subquery()


def catalog_version_of(tax_rate: Any, periods: Any) -> str | None:
    return None if tax_rate is None else f"{tax_rate}:{periods}"


class SqlBillingUnit:
    """Billing records read and written on `conn`, inside its transaction. With `locking` (a unit of
    work, not a one-call read), `load_catalog` locks the catalog row until the transaction ends on
    PostgreSQL; SQLite's BEGIN IMMEDIATE already makes every transaction the single writer."""

    def __init__(self, conn: Connection, *, locking: bool = True) -> None:
        self.conn = conn
        self.locking = locking

    @property
    def _pg(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    def _insert_new(self, table: Table, rows: list[dict[str, Any]]) -> int:
        """Insert the rows whose primary key is not stored yet; how many were new. (An executemany of
        INSERT … ON CONFLICT DO NOTHING: far cheaper to compile than one multi-row VALUES.)"""
        if not rows:
            return 0
        pk = table.primary_key.columns.values()[0]
        added = 0
        for i in range(0, len(rows), CHUNK):
            chunk = rows[i : i + CHUNK]
            present = set(self.conn.execute(select(pk).where(pk.in_([r[pk.name] for r in chunk]))).scalars())
            fresh = [r for r in chunk if r[pk.name] not in present]
            if not fresh:
                continue
            stmt = (pg_insert if self._pg else sqlite_insert)(table)
            self.conn.execute(stmt.on_conflict_do_nothing(index_elements=[pk.name]), fresh)
            added += len(fresh)
        return added

    # prices ------------------------------------------------------------------------------------------

    def load_catalog(self, currency: str) -> PriceCatalog | None:
        query = select(bt.billing_catalogs).where(bt.billing_catalogs.c.currency == currency)
        if self.locking and self._pg:
            query = query.with_for_update()
        head = self.conn.execute(query).first()
        if head is None:
            return None
        p = bt.billing_prices.c
        rows = self.conn.execute(select(bt.billing_prices).where(p.currency == currency)).all()
        periods = [
            PricePeriod(
                PriceKey(
                    r.model,
                    Product(r.product),
                    r.term_months or None,
                    TenantId(r.tenant) if r.tenant else None,
                ),
                Decimal(r.price),
                r.currency,
                r.start_at,
                r.end_at,
            )
            for r in rows
        ]
        return PriceCatalog(currency, Decimal(head.tax_rate), periods)

    def catalog_version(self, currency: str) -> str | None:
        """The tax rate and the number of price periods, in one query on the catalog row: periods are
        never removed (every change adds one and at most closes another), so the count moves with
        every price change. No lock is taken."""
        rate, periods = self.conn.execute(_catalog_version(), {"currency": currency}).one()
        return catalog_version_of(rate, periods)

    def save_catalog(self, catalog: PriceCatalog) -> None:
        c = bt.billing_catalogs.c
        # The catalog row is kept (updated, never deleted): it is what concurrent writers lock.
        changed = self.conn.execute(
            update(bt.billing_catalogs)
            .where(c.currency == catalog.currency)
            .values(tax_rate=str(catalog.tax_rate))
        ).rowcount
        if not changed:
            self.conn.execute(
                insert(bt.billing_catalogs).values(currency=catalog.currency, tax_rate=str(catalog.tax_rate))
            )
        self.conn.execute(delete(bt.billing_prices).where(bt.billing_prices.c.currency == catalog.currency))
        rows = [
            {
                "currency": catalog.currency,
                "model": p.key.model,
                "product": p.key.product.value,
                "term_months": p.key.term_months or 0,
                "tenant": p.key.tenant or "",
                "start_at": p.start,
                "end_at": p.end,
                "price": str(p.per_gpu_hour),
            }
            for p in catalog.periods
        ]
        if rows:
            self.conn.execute(insert(bt.billing_prices), rows)

    # ledger ------------------------------------------------------------------------------------------

    def append_usage(self, entries: Iterable[UsageEntry]) -> int:
        rows = [
            {
                "id": e.id,
                "tenant_id": e.tenant_id,
                "project_id": e.project_id,
                "allocation_id": e.allocation_id,
                "model": e.model,
                "product": e.product.value,
                "term_months": e.term_months,
                "start_at": e.start,
                "end_at": e.end,
                "start_s": to_epoch(e.start),
                "end_s": to_epoch(e.end),
                "gpus": e.gpus,
                "milli_per_gpu": e.milli_per_gpu,
            }
            for e in entries
        ]
        return self._insert_new(bt.billing_usage, rows)

    def usage(self, *, tenant: TenantId | None = None, period: Period | None = None) -> list[UsageEntry]:
        u = bt.billing_usage.c
        query = select(bt.billing_usage)
        if tenant is not None:
            query = query.where(u.tenant_id == tenant)
        if period is not None:
            query = query.where(and_(u.start_at < period.end, u.end_at > period.start))
        return [entry_of(r) for r in self.conn.execute(query.order_by(u.start_at, u.id))]

    def covered(self, allocations: Iterable[AllocationId]) -> dict[AllocationId, list[tuple[int, int]]]:
        """One grouped query per chunk: an allocation whose entries add up to max(end) - min(start) is
        covered by that single span (the usual case); only the others are read row by row."""
        ids = sorted(set(allocations))
        u = bt.billing_usage.c
        out: dict[AllocationId, list[tuple[int, int]]] = {}
        ragged: list[str] = []
        for i in range(0, len(ids), CHUNK):
            query = (
                select(u.allocation_id, func.min(u.start_s), func.max(u.end_s), func.sum(u.end_s - u.start_s))
                .where(u.allocation_id.in_(ids[i : i + CHUNK]))
                .group_by(u.allocation_id)
            )
            for allocation_id, lo, hi, total in self.conn.execute(query):
                if int(total) == int(hi) - int(lo):
                    out[AllocationId(allocation_id)] = [(int(lo), int(hi))]
                else:
                    ragged.append(allocation_id)
        for i in range(0, len(ragged), CHUNK):
            rows = self.conn.execute(
                select(u.allocation_id, u.start_s, u.end_s).where(u.allocation_id.in_(ragged[i : i + CHUNK]))
            )
            for allocation_id, lo, hi in rows:
                out.setdefault(AllocationId(allocation_id), []).append((int(lo), int(hi)))
        return out

    def append_incidents(self, incidents: Iterable[Incident]) -> int:
        rows = [
            {
                "id": i.id,
                "allocation_id": i.allocation_id,
                "tenant_id": i.tenant_id,
                "project_id": i.project_id,
                "model": i.model,
                "product": i.product.value,
                "gpus": i.gpus,
                "milli_per_gpu": i.milli_per_gpu,
                "at": i.at,
                "kind": i.kind,
            }
            for i in incidents
        ]
        return self._insert_new(bt.billing_incidents, rows)

    def incidents(self) -> list[Incident]:
        return [
            Incident(
                r.id,
                AllocationId(r.allocation_id),
                TenantId(r.tenant_id),
                ProjectId(r.project_id),
                r.model,
                Product(r.product),
                r.gpus,
                r.milli_per_gpu,
                r.at,
                r.kind,
            )
            for r in self.conn.execute(select(bt.billing_incidents).order_by(bt.billing_incidents.c.at))
        ]

    # credits and invoices ----------------------------------------------------------------------------

    def add_credit(self, credit: Credit) -> None:
        self.conn.execute(
            insert(bt.billing_credits).values(
                id=credit.id,
                tenant_id=credit.tenant_id,
                amount_minor=credit.amount.minor,
                currency=credit.amount.currency,
                reason=credit.reason,
                issued_at=credit.issued_at,
                incident_id=credit.incident_id,
            )
        )

    def credits(self, *, tenant: TenantId | None = None) -> list[Credit]:
        c = bt.billing_credits.c
        query = select(bt.billing_credits).order_by(c.issued_at, c.id)
        if tenant is not None:
            query = query.where(c.tenant_id == tenant)
        return [
            Credit(
                r.id,
                TenantId(r.tenant_id),
                Money(r.amount_minor, r.currency),
                r.reason,
                r.issued_at,
                r.incident_id,
            )
            for r in self.conn.execute(query)
        ]

    def next_credit_number(self, tenant: TenantId) -> int:
        """On PostgreSQL the credits table is locked against other writers (not readers) until the
        transaction ends; SQLite's BEGIN IMMEDIATE already made this transaction the only writer."""
        if self._pg:
            self.conn.execute(text("LOCK TABLE billing_credits IN SHARE ROW EXCLUSIVE MODE"))
        c = bt.billing_credits.c
        query = select(func.count()).select_from(bt.billing_credits).where(c.tenant_id == tenant)
        count = self.conn.execute(query).scalar_one()
        return int(count) + 1

    def lock_invoice(self, invoice_id: InvoiceId) -> Invoice | None:
        """The invoice, its row locked until the transaction ends on PostgreSQL (SQLite: see above)."""
        query = select(bt.billing_invoices).where(bt.billing_invoices.c.id == invoice_id)
        row = self.conn.execute(query.with_for_update() if self._pg else query).first()
        return invoice_of(row) if row is not None else None

    def get_invoice(self, invoice_id: InvoiceId) -> Invoice | None:
        row = self.conn.execute(
            select(bt.billing_invoices).where(bt.billing_invoices.c.id == invoice_id)
        ).first()
        return invoice_of(row) if row is not None else None

    def save_invoice(self, invoice: Invoice) -> None:
        i = bt.billing_invoices.c
        row = self.conn.execute(select(bt.billing_invoices).where(i.id == invoice.id)).first()
        old = invoice_of(row) if row is not None else None
        check_replacement(old, invoice)
        values = invoice_row(invoice)
        if old is None:
            self.conn.execute(insert(bt.billing_invoices).values(**values))
        else:
            self.conn.execute(update(bt.billing_invoices).where(i.id == invoice.id).values(**values))

    def invoices(self, *, tenant: TenantId | None = None) -> list[Invoice]:
        i = bt.billing_invoices.c
        query = select(bt.billing_invoices).order_by(i.period_start, i.id)
        if tenant is not None:
            query = query.where(i.tenant_id == tenant)
        return [invoice_of(r) for r in self.conn.execute(query)]


def _conforms(unit: SqlBillingUnit) -> BillingUnit:
    """For the type checker: SqlBillingUnit is a BillingUnit."""
    return unit

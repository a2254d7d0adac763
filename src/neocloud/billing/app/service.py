"""Billing use cases: prices, metering, usage, invoices, credits, reconciliation, revenue.

Each use case loads what it needs from the ports, decides in the pure domain, and persists through one
unit of work of its own (`with store.atomic() as unit:`, reading inside it what the decision depends on),
so a crash leaves either all of a decision or none of it, and a failure in one thread never undoes
another thread's work. Metering and finalization are idempotent (deterministic ids), so re-running them
after a crash neither loses nor duplicates anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from neocloud.billing.app import credits
from neocloud.billing.app.credits import required_invoice
from neocloud.billing.app.ports import (
    BillingRecords,
    BillingStore,
    InvoiceRenderer,
    LifecycleEventSource,
    MeteringCursor,
    TenantDirectory,
)
from neocloud.billing.app.settings import BillingSettings, MeterReport
from neocloud.billing.domain.invoices import (
    Credit,
    Invoice,
    InvoiceState,
    draft_invoice,
    invoice_id_for,
)
from neocloud.billing.domain.metering import Incident, LifecycleEvent, UsageEntry, coverage, meter
from neocloud.billing.domain.pricing import (
    RESERVED_TERMS_MONTHS,
    PriceCatalog,
    PriceKey,
    PricePeriod,
    default_catalog,
)
from neocloud.billing.domain.reconcile import ReconcileReport, reconcile, revenue, usage_by
from neocloud.kernel.audit import SERVER_SIDE, Action, Actor, AuditEntry, AuditTrail
from neocloud.kernel.clock import Clock
from neocloud.kernel.errors import Conflict, InvalidInput, NotFound
from neocloud.kernel.ids import InvoiceId, ProjectId, TenantId
from neocloud.kernel.periods import (
    Period,
    floor_to_grid,
    from_epoch,
    require_utc_second,
    to_epoch,
)

DOWNLOAD_TYPES = {"csv": "text/csv", "html": "text/html"}


class BillingService:
    def __init__(
        self,
        store: BillingStore,
        events: LifecycleEventSource,
        clock: Clock,
        settings: BillingSettings | None = None,
        renderer: InvoiceRenderer | None = None,
        audit: AuditTrail | None = None,
        directory: TenantDirectory | None = None,
    ) -> None:
        self.store = store
        self.events = events
        self.clock = clock
        self.settings = settings or BillingSettings()
        self.renderer = renderer
        self.audit = audit
        self.directory = directory
        self._cached: tuple[str | None, PriceCatalog] | None = None

    def _now(self) -> datetime:
        return require_utc_second(self.clock.now().replace(microsecond=0), "now")

    def _settled_now(self) -> datetime:
        """The instant up to which events are taken as complete."""
        return self._now() - timedelta(seconds=self.settings.settle_delay_seconds)

    # Prices -----------------------------------------------------------------------------------------

    def catalog(self) -> PriceCatalog:
        """The current catalog, kept in memory while the store's `catalog_version` says it is unchanged
        (one tiny query per call), so a price set by any process is used by the next read in every one.
        The version is read before the catalog: a change landing in between makes the next call reload,
        never keeps a stale catalog."""
        version = self.store.catalog_version(self.settings.currency)
        cached = self._cached
        if cached is not None and cached[0] == version:
            return cached[1]
        catalog = self._catalog(self.store)
        self._cached = (version, catalog)
        return catalog

    def _catalog(self, records: BillingRecords) -> PriceCatalog:
        stored = records.load_catalog(self.settings.currency)
        if stored is not None:
            return stored
        return default_catalog(self.settings.currency, usd_to_currency=self.settings.usd_to_currency)

    def set_price(
        self,
        *,
        model: str,
        product: str,
        price: str,
        currency: str,
        term_months: int | None = None,
        effective_from: datetime | None = None,
        tenant: str | None = None,
        actor: Actor | None = None,
    ) -> PricePeriod:
        """Set a price from `effective_from` (default now). A change applies from its date on and never
        before now: the past, which may already be invoiced, is never re-priced. Once committed, the
        change is recorded in the audit trail (when one is wired) as done by `actor` (default: a
        server-side command)."""
        now = self._now()
        start = now if effective_from is None else require_utc_second(effective_from, "from")
        if start < now:
            raise InvalidInput(
                f"from: {start.isoformat()} is in the past; a price change never rewrites the past",
                details={"field": "from", "value": start.isoformat(), "now": now.isoformat()},
            )
        key = PriceKey.of(model, product, term_months, self.tenant_id(tenant) if tenant is not None else None)
        with self.store.atomic() as unit:  # read and write in one transaction: concurrent changes serialise
            catalog = self._catalog(unit).with_price(key, price, currency, start)
            unit.save_catalog(catalog)
        period = next(p for p in catalog.periods if p.key == key and p.start == start)
        if self.audit is not None:
            details = {
                "model": key.model,
                "product": key.product.value,
                "price": str(period.per_gpu_hour),
                "currency": period.currency,
                "term_months": key.term_months,
                "effective_from": start.isoformat(),
            }
            target = f"{key.model}/{key.product.value}" + (f"/{key.term_months}m" if key.term_months else "")
            self.audit.record(
                AuditEntry(now, actor or SERVER_SIDE, Action.PRICE_SET, target, key.tenant, details)
            )
        return period

    def prices(self, tenant: str | None = None) -> tuple[PricePeriod, ...]:
        """Every price period, or (with `tenant`, an id or name) the list prices and that tenant's."""
        periods = self.catalog().periods
        if tenant is None:
            return periods
        who = self.tenant_id(tenant)
        return tuple(p for p in periods if p.key.tenant in (None, who))

    # Names ------------------------------------------------------------------------------------------

    def tenant_id(self, ref: str) -> TenantId:
        """The tenant `ref` names (its id or its name); NotFound naming `ref` when there is none."""
        found = self.directory.resolve_tenant(ref) if self.directory is not None else None
        if found is None:
            raise NotFound(f"tenant {ref!r} not found", details={"field": "tenant", "value": ref})
        return found

    def tenant_names(self, ids: Iterable[TenantId]) -> dict[TenantId, str]:
        """Names of the tenants `ids` (for operators' lists; empty without a directory)."""
        wanted = set(ids)
        return self.directory.tenant_names(wanted) if self.directory is not None and wanted else {}

    def tenant_name(self, tenant: TenantId) -> str | None:
        return self.tenant_names([tenant]).get(tenant)

    def project_names(self, tenant: TenantId) -> dict[ProjectId, str]:
        """Names of `tenant`'s own projects (never another tenant's)."""
        return self.directory.project_names(tenant) if self.directory is not None else {}

    # Metering ---------------------------------------------------------------------------------------

    def meter(self, until: datetime | None = None) -> MeterReport:
        """Append to the ledger the settled usage the lifecycle events imply up to `until` (default:
        now less the settle delay). Idempotent: metering again with the same events adds nothing."""
        horizon = self._settled_now() if until is None else require_utc_second(until, "until")
        source = self.events
        if isinstance(source, MeteringCursor):  # reads only what is not metered to the end yet
            events, done = source.unmetered_events(horizon)
        else:
            events, done = list(source.lifecycle_events(horizon)), ()
        covered = self.store.covered({e.allocation_id for e in events})
        result = meter(
            events, covered, horizon, terms=RESERVED_TERMS_MONTHS, grid_seconds=self.settings.grid_seconds
        )
        with self.store.atomic() as unit:
            added = unit.append_usage(result.entries)
            incidents = unit.append_incidents(result.incidents)
        if done and isinstance(source, MeteringCursor):
            source.metered(done)
        return MeterReport(horizon, added, incidents)

    def usage(
        self, *, tenant: TenantId | None = None, period: Period | None = None, by: str = "model"
    ) -> dict[str, int]:
        """Ledger milli-GPU-seconds in `period` (default: this month so far), grouped `by`."""
        span = period or Period.month_of(self._now())
        return dict(usage_by(self.store.usage(tenant=tenant, period=span), by, span))

    def live_usage(self, tenant: TenantId, period: Period, by: str = "model") -> dict[str, int]:
        """The tenant's milli-GPU-seconds in `period` up to now, settled or not (nothing is written)."""
        entries = self._provisional(tenant, min(self._now(), period.end))
        return dict(usage_by(entries, by, period))

    def billed_by_allocation(self, period: Period) -> dict[str, int]:
        """Every allocation's milli-GPU-seconds billed in `period` up to now, settled or not (the job
        side of reconcile divides by it)."""
        until = min(self._now(), period.end)
        ledger = self.store.usage(period=period)
        extra = self._unsettled(list(self.events.lifecycle_events(until)), ledger, until)
        return dict(usage_by([*ledger, *extra], "allocation", period))

    def _provisional(self, tenant: TenantId, until: datetime) -> list[UsageEntry]:
        """The tenant's ledger plus the usage not settled yet, up to `until` exactly (never written)."""
        ledger = self.store.usage(tenant=tenant)
        return [*ledger, *self._unsettled(list(self.events.lifecycle_events(until, tenant)), ledger, until)]

    def _unsettled(
        self, events: list[LifecycleEvent], ledger: list[UsageEntry], until: datetime
    ) -> list[UsageEntry]:
        """The usage `events` add to `ledger` up to `until`, not settled (never written)."""
        extra = meter(
            events,
            coverage(ledger),
            until,
            terms=RESERVED_TERMS_MONTHS,
            grid_seconds=self.settings.grid_seconds,
            settled=False,
        )
        return list(extra.entries)

    # Invoices ---------------------------------------------------------------------------------------

    @staticmethod
    def _pending_credits(records: BillingRecords, tenant: TenantId) -> list[Credit]:
        applied = {
            c.id
            for inv in records.invoices(tenant=tenant)
            if inv.state in (InvoiceState.FINALIZED, InvoiceState.PAID)
            for c in inv.credits
        }
        return [c for c in records.credits(tenant=tenant) if c.id not in applied]

    def preview(self, tenant: TenantId, period: Period | None = None) -> Invoice:
        """The draft invoice of `period` (default: this month) with usage up to now; nothing is saved."""
        now = self._now()
        span = period or Period.month_of(now)
        entries = self._provisional(tenant, min(now, span.end))
        return draft_invoice(
            invoice_id_for(tenant, span),
            tenant,
            span,
            entries,
            self.catalog(),
            self._pending_credits(self.store, tenant),
            at=now,
        )

    def finalize(self, period: Period) -> list[Invoice]:
        """Finalize the invoice of every tenant with usage in `period` (which must be settled: over by
        at least the last grid edge). Meters first. Idempotent: an invoice already finalized, paid or
        void for the tenant and period is returned as it is, never billed again."""
        now = self._now()
        horizon = self._settled_now()
        settled = from_epoch(floor_to_grid(to_epoch(horizon), self.settings.grid_seconds))
        if period.end > settled:
            raise Conflict(
                f"period {period.label()} is not over (settled up to {settled.isoformat()})",
                details={"field": "period", "settled_until": settled.isoformat()},
            )
        self.meter(horizon)
        catalog = self.catalog()
        out: list[Invoice] = []
        entries = self.store.usage(period=period)
        by_tenant: dict[TenantId, list[UsageEntry]] = {}
        for entry in entries:
            by_tenant.setdefault(entry.tenant_id, []).append(entry)
        tenants = sorted(by_tenant)
        batch = self.settings.finalize_batch
        for first in range(0, len(tenants), batch):
            with self.store.atomic() as unit:  # one transaction per batch: a crash redoes one batch
                for tenant in tenants[first : first + batch]:
                    invoice_id = invoice_id_for(tenant, period)
                    existing = unit.get_invoice(invoice_id)
                    if existing is not None and existing.state is not InvoiceState.DRAFT:
                        out.append(existing)
                        continue
                    credits = self._pending_credits(unit, tenant)
                    draft = draft_invoice(
                        invoice_id, tenant, period, by_tenant[tenant], catalog, credits, at=now
                    )
                    final = draft.to(InvoiceState.FINALIZED, at=now)
                    unit.save_invoice(final)
                    out.append(final)
        return out

    def invoice(self, invoice_id: str) -> Invoice:
        return self._invoice(self.store, invoice_id)

    @staticmethod
    def _invoice(records: BillingRecords, invoice_id: str) -> Invoice:
        return required_invoice(invoice_id, records.get_invoice(InvoiceId(invoice_id)))

    def download(self, invoice_id: str, fmt: str) -> tuple[str, str]:
        """(media type, document) of an invoice as csv or html."""
        if fmt not in DOWNLOAD_TYPES:
            raise InvalidInput(
                f"format: must be one of {sorted(DOWNLOAD_TYPES)}", details={"field": "format", "value": fmt}
            )
        if self.renderer is None:
            raise NotFound("invoice documents are not available in this build", details={"field": "format"})
        invoice = self.invoice(invoice_id)
        name = self.tenant_name(invoice.tenant_id)
        text = self.renderer.csv(invoice, name) if fmt == "csv" else self.renderer.html(invoice, name)
        return DOWNLOAD_TYPES[fmt], text

    def invoices(self, tenant: TenantId | None = None) -> list[Invoice]:
        return sorted(self.store.invoices(tenant=tenant), key=lambda i: (i.period.start, i.tenant_id, i.id))

    def _move(self, invoice_id: str, state: InvoiceState) -> Invoice:
        with self.store.atomic() as unit:
            moved = self._invoice(unit, invoice_id).to(state, at=self._now())
            unit.save_invoice(moved)
        return moved

    def mark_paid(self, invoice_id: str) -> Invoice:
        return self._move(invoice_id, InvoiceState.PAID)

    def void(self, invoice_id: str) -> Invoice:
        return self._move(invoice_id, InvoiceState.VOID)

    def credit_note(self, invoice_id: str, *, reason: str, amount: str | None = None) -> Invoice:
        """Correct a finalized invoice: a full reversal (no `amount`) or an adjustment (see credits.py)."""
        return credits.credit_note(self.store, self._now(), invoice_id, reason=reason, amount=amount)

    def issue_credit(
        self, tenant: TenantId, amount: str, reason: str, incident_id: str | None = None
    ) -> Credit:
        """A credit for the tenant's next invoice; at most one per incident (see credits.py)."""
        return credits.issue_credit(
            self.store, self.settings.currency, self._now(), tenant, amount, reason, incident_id
        )

    def issue_sla_credit(self, tenant: TenantId, amount: str, reason: str, key: str) -> str:
        """An SLA credit for the tenant's next invoice, exactly once per `key` (see credits.py)."""
        return credits.issue_sla_credit(
            self.store, self.settings.currency, self._now(), tenant, amount, reason, key
        )

    def incidents(self) -> list[Incident]:
        return self.store.incidents()

    # Reports ----------------------------------------------------------------------------------------

    def reconcile(self, period: Period | None = None) -> ReconcileReport:
        now = self._settled_now()
        span = period or Period.month_of(now)
        return reconcile(
            self.events.lifecycle_events(now),
            self.store.usage(period=span),
            self.store.invoices(),
            span,
            until=now,
            terms=RESERVED_TERMS_MONTHS,
            grid_seconds=self.settings.grid_seconds,
        )

    def revenue(self, by: str = "month") -> list[dict[str, str]]:
        """Revenue rows; grouped by tenant, each row also has the tenant's `tenant_name`."""
        return self.revenue_by((by,))[by]

    def revenue_by(self, groupings: Sequence[str]) -> dict[str, list[dict[str, str]]]:
        """Revenue rows for each grouping, from one read of the invoices (a report page shows several)."""
        invoices = self.store.invoices()
        out = {by: revenue(invoices, by) for by in groupings}
        if "tenant" in out:
            names = self.tenant_names(TenantId(r["tenant"]) for r in out["tenant"])
            out["tenant"] = [
                {**r, "tenant_name": names.get(TenantId(r["tenant"]), "")} for r in out["tenant"]
            ]
        return out

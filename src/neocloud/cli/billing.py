"""Billing commands for the operator, run where the database is (through bootstrap): `prices set|list`,
`invoices finalize|pay|void|credit-note`, `billing meter|reconcile|incidents|credit`, `revenue`. The
tenant's billing commands (over HTTP) are in cli/usage.py; `register` adds both. Each prints a table,
or exactly one JSON document with --json.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from neocloud.cli.dates import INSTANT_HELP, instant
from neocloud.cli.operator import DataDirOpt, DbUrlOpt, _services
from neocloud.cli.output import fail, print_json, print_table
from neocloud.cli.usage import invoices_download, invoices_list, invoices_preview, invoices_show, usage

prices_app = typer.Typer(help="Prices per GPU-hour (operator): set, list.", no_args_is_help=True)
invoices_app = typer.Typer(
    help="Invoices: preview, list, show, download (tenant); finalize (operator).", no_args_is_help=True
)
billing_app = typer.Typer(help="Billing operations (operator): meter, reconcile.", no_args_is_help=True)

JsonOpt = typer.Option(False, "--json", help="print one JSON document")


@contextmanager
def _billing(data_dir: Path | None, database_url: str | None) -> Iterator[Any]:
    """The BillingService on the configured database; domain errors exit 1 with their message."""
    with _services(data_dir, database_url) as services, _billing_of(services) as billing:
        yield billing


@contextmanager
def _billing_of(services: Any) -> Iterator[Any]:
    from neocloud.kernel.errors import DomainError

    if services.billing is None:
        raise fail("billing is not configured")
    try:
        yield services.billing
    except DomainError as err:
        raise fail(err.message) from None


# operator --------------------------------------------------------------------------------------------


def prices_set(
    model: str = typer.Option(..., "--model", help="GPU model, e.g. H100"),
    product: str = typer.Option(..., "--product", help="on-demand, reserved or spot"),
    price: str = typer.Option(..., "--price", help="per GPU-hour, a decimal such as 2.35"),
    currency: str = typer.Option(..., "--currency", help="USD or EUR (the catalog's currency)"),
    term: int | None = typer.Option(None, "--term", help="reserved term in months: 1, 3, 6, 12 or 36"),
    start: str | None = typer.Option(
        None, "--from", help=f"when it applies from: {INSTANT_HELP}; default now"
    ),
    tenant: str | None = typer.Option(
        None, "--tenant", help="a contract price for this tenant (name or id; refused when unknown)"
    ),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Set a price from now (or --from) on; the past is never re-priced. With --tenant, a contract price
    that the tenant's quotes, reservations, instances and invoices use while it is effective."""
    from neocloud.billing.app.views import price_view

    with _billing(data_dir, database_url) as billing:
        period = billing.set_price(
            model=model,
            product=product,
            price=price,
            currency=currency,
            term_months=term,
            effective_from=instant(start, "--from"),
            tenant=tenant,
        )
        name = billing.tenant_name(period.key.tenant) if period.key.tenant else None
    view = price_view(period, name)
    if as_json:
        print_json(view)
    else:
        print_table("price set", list(view), [list(view.values())])


def prices_list(
    tenant: str | None = typer.Option(
        None, "--tenant", help="only list prices and this tenant's contract prices (name or id)"
    ),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Every price period of the catalog, current and past (contract prices name their tenant)."""
    from neocloud.billing.app.views import price_view

    with _billing(data_dir, database_url) as billing:
        periods = billing.prices(tenant)
        names = billing.tenant_names(p.key.tenant for p in periods if p.key.tenant)
        views = [price_view(p, names.get(p.key.tenant) if p.key.tenant else None) for p in periods]
        currency, tax = billing.catalog().currency, str(billing.catalog().tax_rate)
    if as_json:
        print_json({"currency": currency, "tax_rate": tax, "prices": views})
        return
    rows = [
        (
            v["model"],
            v["product"],
            v["term_months"] or "",
            _named(v["tenant_name"], v["tenant"]),
            v["price"],
            v["from"],
            v["to"] or "",
        )
        for v in views
    ]
    print_table(
        f"prices ({currency}, tax {tax})",
        ("model", "product", "term", "tenant", "per GPU-hour", "from", "to"),
        rows,
    )


def invoices_finalize(
    period: str = typer.Option(..., "--period", help="YYYY-MM"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Meter, then finalize every tenant's invoice for the month. Safe to run again."""
    from neocloud.billing.app.views import invoice_summary
    from neocloud.kernel.periods import Period

    with _billing(data_dir, database_url) as billing:
        invoices = billing.finalize(Period.parse_month(period))
        names = billing.tenant_names(i.tenant_id for i in invoices)
        views = [invoice_summary(i, names.get(i.tenant_id)) for i in invoices]
    if as_json:
        print_json({"period": period, "invoices": views})
        return
    print_table(
        f"invoices {period}",
        ("id", "tenant", "state", "total", "currency"),
        [
            (v["id"], _named(v["tenant_name"], v["tenant"]), v["state"], v["total"], v["currency"])
            for v in views
        ],
    )


def billing_meter(
    data_dir: Path | None = DataDirOpt, database_url: str | None = DbUrlOpt, as_json: bool = JsonOpt
) -> None:
    """Append the settled usage of the control plane's events to the ledger (idempotent)."""
    with _billing(data_dir, database_url) as billing:
        report = billing.meter()
    view = {
        "until": report.until.isoformat(),
        "entries_added": report.entries_added,
        "incidents_added": report.incidents_added,
    }
    if as_json:
        print_json(view)
    else:
        print_table("metered", list(view), [list(view.values())])


def billing_reconcile(
    period: str | None = typer.Option(None, "--period", help="YYYY-MM (default: this month)"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Compare allocation events, the ledger and invoices; list every difference."""
    from neocloud.billing.app.views import reconcile_view
    from neocloud.kernel.ids import TenantId
    from neocloud.kernel.periods import Period

    with _services(data_dir, database_url) as services, _billing_of(services) as billing:
        result = billing.reconcile(Period.parse_month(period) if period else None)
        raw = result.to_dict()
        if services.control.deps.jobs is not None:  # a Slurm cluster: the job side too (billing/app/jobs.py)
            from neocloud.billing.app.jobs import with_jobs

            end = min(result.period.end, services.control.deps.clock.now())
            raw = with_jobs(
                result,
                services.control.jobs.report(result.period.start, end),
                billing.billed_by_allocation(result.period),
            )
        names = billing.tenant_names(TenantId(d["tenant_id"]) for d in raw["differences"] if "tenant_id" in d)
        report = {**reconcile_view(raw, names), **({"jobs": raw["jobs"]} if "jobs" in raw else {})}
    if as_json:
        print_json(report)
        return
    print_table(
        f"reconcile {report['period']}",
        ("allocations", "ledger", "invoiced", "differences"),
        [
            (
                report["allocations_seconds"],
                report["ledger_seconds"],
                report["invoiced_seconds"],
                len(report["differences"]),
            )
        ],
        caption="GPU-seconds",
    )
    if report["differences"]:
        print_table(
            "differences",
            ("kind", "allocation", "tenant", "expected", "actual"),
            [
                (
                    d["kind"],
                    d.get("allocation_id", ""),
                    _named(d.get("tenant_name"), d.get("tenant_id", "")),
                    d.get("expected_seconds", ""),
                    d.get("actual_seconds", ""),
                )
                for d in report["differences"]
            ],
        )
    if "jobs" in report:
        jobs = report["jobs"]
        print_table(
            f"jobs {jobs['from']} → {jobs['to']}: {jobs['jobs']} jobs, {jobs['job_gpu_seconds']} GPU-seconds, "
            f"{jobs['outside_paid_window_seconds']} outside a paid window",
            ("allocation", "job GPU-seconds", "billed GPU-seconds", "utilisation"),
            [
                (a["allocation_id"], a["job_gpu_seconds"], a["billed_gpu_seconds"], a["utilisation"] or "-")
                for a in jobs["allocations"]
            ],
        )


def revenue(
    by: str = typer.Option("month", "--by", help="model, product, tenant or month"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Billed revenue before tax (finalized and paid invoices, net of credit notes)."""
    with _billing(data_dir, database_url) as billing:
        rows = billing.revenue(by)
    if as_json:
        print_json({"by": by, "items": rows})
        return
    print_table(
        f"revenue by {by}",
        (by, "currency", "amount"),
        [
            (_named(r.get("tenant_name"), r[by]) if by == "tenant" else r[by], r["currency"], r["amount"])
            for r in rows
        ],
    )


def _invoice_action(
    action: str, invoice_id: str, data_dir: Path | None, database_url: str | None, as_json: bool, **kw: Any
) -> None:
    from neocloud.billing.app.views import invoice_view

    with _billing(data_dir, database_url) as billing:
        if action == "pay":
            invoice = billing.mark_paid(invoice_id)
        elif action == "void":
            invoice = billing.void(invoice_id)
        else:
            invoice = billing.credit_note(invoice_id, **kw)
    doc = invoice_view(invoice)
    if as_json:
        print_json(doc)
    else:
        print_table(
            doc["kind"],
            ("id", "state", "refers to", "total", "currency"),
            [(doc["id"], doc["state"], doc["refers_to"] or "", doc["total"], doc["currency"])],
        )


def invoices_pay(
    invoice_id: str = typer.Argument(...),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Mark a finalized invoice paid."""
    _invoice_action("pay", invoice_id, data_dir, database_url, as_json)


def invoices_void(
    invoice_id: str = typer.Argument(...),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Void an invoice that is not paid (its usage then shows as uninvoiced in reconcile)."""
    _invoice_action("void", invoice_id, data_dir, database_url, as_json)


def invoices_credit_note(
    invoice_id: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="why the invoice is corrected"),
    amount: str | None = typer.Option(
        None, "--amount", help="an adjustment before tax (default: reverse it all)"
    ),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Correct a finalized invoice with a credit note (finalized invoices never change)."""
    _invoice_action("credit-note", invoice_id, data_dir, database_url, as_json, reason=reason, amount=amount)


def billing_incidents(
    data_dir: Path | None = DataDirOpt, database_url: str | None = DbUrlOpt, as_json: bool = JsonOpt
) -> None:
    """Nodes that failed while allocated (recorded by metering; credit them with `billing credit`)."""
    with _billing(data_dir, database_url) as billing:
        incidents = billing.incidents()
    rows = [
        {
            "id": i.id,
            "allocation_id": i.allocation_id,
            "tenant": i.tenant_id,
            "model": i.model,
            "product": i.product.value,
            "gpus": i.gpus,
            "at": i.at.isoformat(),
            "kind": i.kind,
        }
        for i in incidents
    ]
    if as_json:
        print_json({"items": rows})
    else:
        print_table(
            "incidents",
            ("id", "tenant", "model", "GPUs", "at"),
            [(r["id"], r["tenant"], r["model"], r["gpus"], r["at"]) for r in rows],
        )


def billing_credit(
    tenant: str = typer.Option(..., "--tenant", help="tenant id"),
    amount: str = typer.Option(..., "--amount", help="a decimal in the catalog's currency"),
    reason: str = typer.Option(..., "--reason"),
    incident: str | None = typer.Option(None, "--incident", help="the incident it credits (one credit each)"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Give a tenant a credit, applied to its next invoice."""
    from neocloud.kernel.ids import TenantId

    with _billing(data_dir, database_url) as billing:
        credit = billing.issue_credit(TenantId(tenant), amount, reason, incident)
    doc = {
        "id": credit.id,
        "tenant": credit.tenant_id,
        "amount": str(credit.amount),
        "currency": credit.amount.currency,
        "reason": credit.reason,
        "incident_id": credit.incident_id,
    }
    if as_json:
        print_json(doc)
    else:
        print_table("credit", list(doc), [list(doc.values())])


def _named(name: str | None, ident: str) -> str:
    """A tenant as an operator's table shows it: its name with its id, or the id alone."""
    return f"{name} ({ident})" if name else ident


def register(app: typer.Typer) -> None:
    prices_app.command("set")(prices_set)
    prices_app.command("list")(prices_list)
    for name, fn in (
        ("preview", invoices_preview),
        ("list", invoices_list),
        ("show", invoices_show),
        ("download", invoices_download),
        ("finalize", invoices_finalize),
        ("pay", invoices_pay),
        ("void", invoices_void),
        ("credit-note", invoices_credit_note),
    ):
        invoices_app.command(name)(fn)
    billing_app.command("meter")(billing_meter)
    billing_app.command("reconcile")(billing_reconcile)
    billing_app.command("incidents")(billing_incidents)
    billing_app.command("credit")(billing_credit)
    app.add_typer(prices_app, name="prices")
    app.add_typer(invoices_app, name="invoices")
    app.add_typer(billing_app, name="billing")
    app.command("usage")(usage)
    app.command("revenue")(revenue)

"""The tenant's billing commands, over HTTP through neocloud.client: `usage` and
`invoices preview|list|show|download`. Each prints a table, or exactly one JSON document with --json.
"""

from __future__ import annotations

from pathlib import Path

import typer

from neocloud.cli.dates import INSTANT_HELP, instant
from neocloud.cli.output import fail, print_json, print_table
from neocloud.cli.tenant import _api
from neocloud.client.billing import BillingClient
from neocloud.client.documents import to_json
from neocloud.wire.billing import InvoiceOut, InvoicePreviewOut

JsonOpt = typer.Option(False, "--json", help="print one JSON document")


def usage(
    ctx: typer.Context,
    start: str | None = typer.Option(None, "--from", help=f"{INSTANT_HELP} (with --to; default this month)"),
    end: str | None = typer.Option(None, "--to", help=f"{INSTANT_HELP}; exclusive"),
    by: str = typer.Option("model", "--by", help="model, project, day or job (jobs on the Slurm cluster)"),
    tenant: str | None = typer.Option(None, "--tenant", help="operators: which tenant (name or id)"),
    as_json: bool = JsonOpt,
) -> None:
    """Your GPU usage, settled or not, grouped by model, project or day; or job by job (--by job)."""
    if by == "job":
        from neocloud.cli.slurm import job_usage_table
        from neocloud.client.slurm import SlurmClient

        with _api(ctx) as client:
            jobs = SlurmClient(client).job_usage(
                start=instant(start, "--from"), end=instant(end, "--to"), tenant=tenant
            )
        if as_json:
            print_json(to_json(jobs))
        else:
            job_usage_table(jobs)
        return
    with _api(ctx) as client:
        doc = BillingClient(client).usage(
            start=instant(start, "--from"), end=instant(end, "--to"), by=by, tenant=tenant
        )
    if as_json:
        print_json(to_json(doc))
        return
    named = by == "project"
    print_table(
        f"usage {doc.tenant_name or doc.tenant} {doc.period}",
        (by, *(("name",) if named else ()), "GPU-hours", "GPU-seconds"),
        [
            (i.key(by), *((i.project_name or "",) if named else ()), i.gpu_hours, i.gpu_seconds)
            for i in doc.items
        ],
        caption=f"total {doc.total_gpu_seconds} GPU-seconds",
    )


def _print_invoice(doc: InvoiceOut | InvoicePreviewOut, title: str) -> None:
    rows: list[tuple[str, ...]] = [
        (x.product, x.model, x.gpu_hours, x.unit_price, x.amount) for x in doc.lines
    ]
    rows += [("credit", c.reason, "", "", f"-{c.amount}") for c in doc.credits]
    rows += [
        ("subtotal", "", "", "", doc.subtotal),
        ("tax", "", "", "", doc.tax),
        ("total", "", "", "", doc.total),
    ]
    print_table(title, ("product", "model", "GPU-hours", "unit price", f"amount {doc.currency}"), rows)


def invoices_preview(
    ctx: typer.Context,
    period: str | None = typer.Option(None, "--period", help="YYYY-MM (default: this month)"),
    tenant: str | None = typer.Option(None, "--tenant", help="operators: which tenant (name or id)"),
    as_json: bool = JsonOpt,
) -> None:
    """What this month's invoice would say now (nothing is saved)."""
    with _api(ctx) as client:
        doc = BillingClient(client).invoice_preview(period=period, tenant=tenant)
    if as_json:
        print_json(to_json(doc))
    else:
        _print_invoice(doc, f"preview {doc.period}")


def invoices_list(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", help="operators: one tenant (name or id)"),
    as_json: bool = JsonOpt,
) -> None:
    """Your invoices and credit notes."""
    with _api(ctx) as client:
        items = BillingClient(client).invoices(tenant=tenant)
    if as_json:
        print_json({"items": to_json(items)})
        return
    print_table(
        "invoices",
        ("id", "tenant", "period", "kind", "state", "total", "currency"),
        [(i.id, i.tenant_name or i.tenant, i.period, i.kind, i.state, i.total, i.currency) for i in items],
    )


def invoices_show(ctx: typer.Context, invoice_id: str = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """One invoice: lines, credits, tax, total."""
    with _api(ctx) as client:
        doc = BillingClient(client).invoice(invoice_id)
    if as_json:
        print_json(to_json(doc))
    else:
        _print_invoice(doc, f"{doc.kind} {doc.id} ({doc.state}, {doc.period})")


def invoices_download(
    ctx: typer.Context,
    invoice_id: str = typer.Argument(...),
    fmt: str = typer.Option("html", "--format", help="csv or html"),
    output: Path | None = typer.Option(None, "--output", "-o", help="write to this file (default: stdout)"),
) -> None:
    """The invoice document as CSV or print-friendly HTML."""
    if fmt not in ("csv", "html"):
        raise fail("--format must be csv or html")
    with _api(ctx) as client:
        text = BillingClient(client).download_invoice(invoice_id, fmt)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)

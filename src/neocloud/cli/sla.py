"""`neocloud sla report [--period YYYY-MM] [--tenant T] [--json]` and `neocloud sla credit --period
YYYY-MM`: availability and SLA credits per tenant and allocation.

`sla report` runs server-side (where the database is; whoever reaches it is the operator) unless an API
URL is given (`--url` here or the global `neocloud --url` / NEOCLOUD_URL): then it asks
`GET /v1/sla` with the token (`--token`, NEOCLOUD_TOKEN or `neocloud login`'s), and a tenant token sees
only its own tenant's allocations. `sla credit` issues credits: server-side only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from neocloud.cli import credentials
from neocloud.cli.credentials import Endpoint
from neocloud.cli.operator import OPERATOR, DataDirOpt, DbUrlOpt, JsonOpt, _services
from neocloud.cli.output import fail, print_json, print_table
from neocloud.client.http import ApiError, NeocloudClient
from neocloud.client.sla import SlaClient
from neocloud.kernel.errors import DomainError
from neocloud.kernel.ids import TenantId
from neocloud.kernel.periods import Period
from neocloud.wire.sla_report import report_out

app = typer.Typer(help="SLA: availability per allocation and the credits it earns.", no_args_is_help=True)
PeriodOpt = typer.Option(None, "--period", help="YYYY-MM (default: this month)")


def _period(text: str | None) -> Period:
    try:
        return Period.parse_month(text) if text else Period.month_of(datetime.now(UTC))
    except DomainError as err:
        raise fail(err.message) from None


@app.command("report")
def report(
    ctx: typer.Context,
    period: str | None = PeriodOpt,
    tenant: str | None = typer.Option(None, "--tenant", help="one tenant (id or name; operators)"),
    url: str | None = typer.Option(None, "--url", help="ask this server's API (default: the global --url)"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Availability (delivered healthy / committed GPU-seconds) and credit of every covered allocation."""
    span = _period(period)
    given = ctx.find_root().obj
    remote = url or (given.url if isinstance(given, Endpoint) else None)
    doc = _remote(ctx, remote, span, tenant) if remote else _local(data_dir, database_url, span, tenant)
    if as_json:
        print_json(doc)
        return
    rows = [
        (
            x["tenant_name"] or x["tenant_id"],
            x["allocation"],
            x["shape"],
            x["gpus"],
            x["availability_pct"],
            x["credit_pct"],
            x["charge"],
            x["credit"],
            "yes" if x["issued"] else "",
        )
        for x in doc["lines"]
    ]
    print_table(
        f"SLA {doc['period']} (target {doc['target_pct']} %)",
        ("tenant", "allocation", "shape", "GPUs", "avail %", "credit %", "charge", "credit", "issued"),
        rows,
    )


def _remote(ctx: typer.Context, url: str, span: Period, tenant: str | None) -> dict[str, Any]:
    given = ctx.find_root().obj
    endpoint = credentials.resolve(Endpoint(url, given.token if isinstance(given, Endpoint) else None))
    if not endpoint.token:
        raise fail("no API token: pass --token, set NEOCLOUD_TOKEN, or run `neocloud login`")
    try:
        with NeocloudClient(url, endpoint.token) as client:
            found = SlaClient(client).report(period=span.label(), tenant=tenant)
    except ApiError as exc:
        where = f"{exc.status} {exc.code}" if exc.status else exc.code
        raise fail(f"{exc.message} ({where})") from None
    return found.model_dump(mode="json")


def _local(
    data_dir: Path | None, database_url: str | None, span: Period, tenant: str | None
) -> dict[str, Any]:
    with _services(data_dir, database_url) as services:
        assert services.health is not None
        asked = services.billing.tenant_id(tenant) if tenant and services.billing else tenant
        found = services.health.sla.report(OPERATOR, span, TenantId(asked) if asked else None)
        names = services.billing.tenant_names({x.tenant for x in found.lines}) if services.billing else {}
    doc = report_out(found, span.label(), names)
    return doc.model_dump(mode="json")


@app.command("credit")
def credit(
    period: str = typer.Option(..., "--period", help="YYYY-MM, over"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Issue the period's SLA credits (once each; run before `billing finalize` so they land on it)."""
    span = _period(period)
    with _services(data_dir, database_url) as services:
        assert services.health is not None
        made = services.health.sla.issue_credits(OPERATOR, span)
    if as_json:
        print_json(
            [
                {
                    "key": c.key,
                    "tenant_id": c.tenant,
                    "allocation": c.allocation,
                    "credit_id": c.credit_id,
                    "amount_minor": c.amount_minor,
                    "currency": c.currency,
                }
                for c in made
            ]
        )
        return
    typer.echo(f"{len(made)} SLA credit(s) issued for {span.label()}")

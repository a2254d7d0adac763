"""`neocloud sla report [--period YYYY-MM] [--json]` and `neocloud sla credit --period YYYY-MM`:
availability and SLA credits per tenant and allocation (server-side, where the database is)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from neocloud.cli.operator import OPERATOR, DataDirOpt, DbUrlOpt, JsonOpt, _services
from neocloud.cli.output import fail, print_json, print_table
from neocloud.kernel.errors import DomainError
from neocloud.kernel.periods import Period

app = typer.Typer(help="SLA: availability per allocation and the credits it earns.", no_args_is_help=True)
PeriodOpt = typer.Option(None, "--period", help="YYYY-MM (default: this month)")


def _period(text: str | None) -> Period:
    try:
        return Period.parse_month(text) if text else Period.month_of(datetime.now(UTC))
    except DomainError as err:
        raise fail(err.message) from None


@app.command("report")
def report(
    period: str | None = PeriodOpt,
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Availability (delivered healthy / committed GPU-seconds) and credit of every covered allocation."""
    span = _period(period)
    with _services(data_dir, database_url) as services:
        assert services.health is not None
        found = services.health.sla.report(OPERATOR, span)
        names = services.billing.tenant_names({x.tenant for x in found.lines}) if services.billing else {}
    if as_json:
        print_json(
            {
                "period": span.label(),
                "target_pct": found.target_pct,
                "lines": [
                    {
                        "tenant": names.get(x.tenant, x.tenant),
                        "tenant_id": x.tenant,
                        "allocation": x.allocation,
                        "shape": x.shape,
                        "gpus": x.gpus,
                        "availability_pct": x.availability_pct,
                        "credit_pct": x.credit_pct,
                        "charge": x.charge,
                        "credit": x.credit,
                        "issued": x.issued,
                    }
                    for x in found.lines
                ],
            }
        )
        return
    rows = [
        (
            names.get(x.tenant, x.tenant),
            x.allocation,
            x.shape,
            x.gpus,
            x.availability_pct,
            x.credit_pct,
            x.charge,
            x.credit,
            "yes" if x.issued else "",
        )
        for x in found.lines
    ]
    print_table(
        f"SLA {span.label()} (target {found.target_pct} %)",
        ("tenant", "allocation", "shape", "GPUs", "avail %", "credit %", "charge", "credit", "issued"),
        rows,
    )


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
        try:
            made = services.health.sla.issue_credits(OPERATOR, span)
        except DomainError as err:
            raise fail(err.message) from None
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

"""The SLA report's wire document from the health context's report (kept apart from wire/sla.py, which
the HTTP client imports and which therefore imports no use case)."""

from __future__ import annotations

from collections.abc import Mapping

from neocloud.health.app.sla import SlaReport
from neocloud.kernel.ids import TenantId
from neocloud.wire.sla import SlaLineOut, SlaReportOut


def report_out(report: SlaReport, period: str, names: Mapping[TenantId, str]) -> SlaReportOut:
    """The wire form of `report` for `period` (YYYY-MM), tenants named from `names` (the API and the
    CLI's local mode both answer with it)."""
    return SlaReportOut(
        period=period,
        period_start=report.period_start,
        period_end=report.period_end,
        target_pct=report.target_pct,
        lines=[
            SlaLineOut(
                tenant_id=x.tenant,
                tenant_name=names.get(x.tenant),
                allocation=x.allocation,
                shape=x.shape,
                gpus=x.gpus,
                availability_pct=x.availability_pct,
                credit_pct=x.credit_pct,
                charge=x.charge,
                credit=x.credit,
                currency=x.currency,
                issued=x.issued,
            )
            for x in report.lines
        ],
    )

"""SLA reports on the wire (`GET /v1/sla?period=YYYY-MM`): availability and credit per allocation.

A tenant's report holds only its own allocations; an operator's holds every tenant's (or the one it
names with `tenant=`), each line naming the tenant by id and name."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from neocloud.wire.fields import Out


class SlaLineOut(Out):
    tenant_id: str
    tenant_name: str | None = Field(None, description="the tenant's name (None without a directory)")
    allocation: str
    shape: str
    gpus: int
    availability_pct: str = Field(description="delivered healthy / committed GPU-seconds, 4 decimals")
    credit_pct: str = Field(description="the credit schedule's share of the charge, in %")
    charge: str = Field(description="the allocation's price over the period, in currency units")
    credit: str
    currency: str
    issued: bool = Field(description="the credit is on the tenant's ledger already")


class SlaReportOut(Out):
    period: str = Field(description="YYYY-MM")
    period_start: datetime
    period_end: datetime
    target_pct: str
    lines: list[SlaLineOut]

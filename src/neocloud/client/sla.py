"""The SLA report over the API: `SlaClient(NeocloudClient(url, token)).report(period="2026-11")`."""

from __future__ import annotations

from neocloud.client.http import NeocloudClient
from neocloud.wire.sla import SlaReportOut


class SlaClient:
    def __init__(self, client: NeocloudClient) -> None:
        self._c = client

    def report(self, *, period: str | None = None, tenant: str | None = None) -> SlaReportOut:
        """Availability and credit per allocation over `period` (YYYY-MM; default this month): the
        caller's tenant's, or for an operator every tenant's (or `tenant`'s)."""
        return SlaReportOut.model_validate(self._c._get("/v1/sla", period=period, tenant=tenant))

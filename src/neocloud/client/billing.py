"""Billing calls of the API: `BillingClient(NeocloudClient(url, token))`.

Usage and invoices come back as the wire models the server serves (neocloud.wire.billing; amounts as
decimal strings); a download returns the document's text (CSV or HTML). Errors raise the client's
`ApiError`.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from neocloud.client.http import ApiError, NeocloudClient, _error_from, _iso
from neocloud.wire.billing import InvoiceOut, InvoicePreviewOut, InvoiceSummary, UsageOut


class BillingClient:
    def __init__(self, client: NeocloudClient) -> None:
        self._client = client

    def usage(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        by: str = "model",
        tenant: str | None = None,
    ) -> UsageOut:
        """Each item sets only the field of the grouping `by` (`item.key(by)`)."""
        params = {"from": _iso(start), "to": _iso(end), "by": by, "tenant": tenant}
        return UsageOut.model_validate(self._client._get("/v1/usage", **params))

    def invoice_preview(self, *, period: str | None = None, tenant: str | None = None) -> InvoicePreviewOut:
        return InvoicePreviewOut.model_validate(
            self._client._get("/v1/invoices/preview", period=period, tenant=tenant)
        )

    def invoices(self, *, tenant: str | None = None) -> list[InvoiceSummary]:
        return [InvoiceSummary.model_validate(i) for i in self._client._get("/v1/invoices", tenant=tenant)]

    def invoice(self, invoice_id: str) -> InvoiceOut:
        return InvoiceOut.model_validate(self._client._get(f"/v1/invoices/{invoice_id}"))

    def download_invoice(self, invoice_id: str, fmt: str = "html") -> str:
        """The invoice document as text (`fmt` csv or html)."""
        try:
            response = self._client._http.get(f"/v1/invoices/{invoice_id}/download", params={"format": fmt})
        except httpx.TransportError as exc:
            raise ApiError(0, "unreachable", f"cannot reach {self._client.url}: {exc}") from exc
        if not response.is_success:
            raise _error_from(response)
        return response.text

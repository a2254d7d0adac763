"""The WebhookSender over httpx: one POST per attempt, a short timeout, no redirects followed, and
(unless allowed) no private, loopback or link-local destination, so a tenant's URL cannot make the
control plane call into the operator's own network."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

TIMEOUT_S = 5.0


class HttpWebhookSender:
    def __init__(self, *, allow_private: bool = False, timeout_s: float = TIMEOUT_S) -> None:
        self._allow_private = allow_private
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False)

    def _refused(self, url: str) -> str | None:
        if self._allow_private:
            return None
        host = urlsplit(url).hostname or ""
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError as err:
            return f"cannot resolve {host}: {err}"
        for info in infos:
            addr = ipaddress.ip_address(info[4][0])
            if not addr.is_global:
                return f"{host} resolves to a non-public address ({addr})"
        return None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
        why = self._refused(url)
        if why is not None:
            return None, why
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as err:
            return None, f"{type(err).__name__}: {err}"[:500]
        return response.status_code, ""

    def close(self) -> None:
        self._client.close()

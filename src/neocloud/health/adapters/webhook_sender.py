"""The WebhookSender over httpx: one POST per attempt, a short timeout, no redirects followed, and
(unless allowed) no private, loopback or link-local destination, so a tenant's URL cannot make the
control plane call into the operator's own network.

DNS rebinding: a host that resolved to a public address when the tenant subscribed may resolve to
127.0.0.1 or 169.254.169.254 by the time a delivery goes out, or between a check and the connect. So
each attempt resolves the host once, checks every address it got against the policy (one refused
address refuses the attempt), and connects to the first checked address itself: the URL sent is the
address literal, with the original `Host` header and, for https, the original name as TLS SNI and for
certificate verification (httpcore's `sni_hostname` extension). Nothing resolves the name again.

    sender = HttpWebhookSender(resolver=lambda host, port: ["93.184.216.34"])
    sender.post("https://hooks.example.com/x", body, headers)  # connects to 93.184.216.34:443
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import httpx

TIMEOUT_S = 5.0
Resolver = Callable[[str, int], list[str]]  # (host, port) -> addresses, in the order to try


def system_resolver(host: str, port: int) -> list[str]:
    """The system's resolver (getaddrinfo), each address once, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refused_address(address: str, *, allow_private: bool) -> str | None:
    """Why the policy refuses `address` (None: allowed): anything not globally routable (private,
    loopback, link-local and cloud metadata, shared, reserved, multicast) unless private is allowed.
    The reason never names the address: it reaches the tenant (delivery status, a 400 on subscribing),
    and what an internal name resolves to is the operator's to know."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    if allow_private or (ip.is_global and not ip.is_multicast):
        return None
    return "non-public address"  # not which: the tenant reads this, and the operator's DNS is not theirs


class HttpWebhookSender:
    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout_s: float = TIMEOUT_S,
        resolver: Resolver = system_resolver,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        """`verify`: the TLS trust for https receivers (True: the system's CAs, as httpx does)."""
        self._allow_private = allow_private
        self._resolve = resolver
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False, verify=verify)

    def refused(self, url: str) -> str | None:
        """Why the policy refuses `url`'s host as it resolves now (None: allowed, or it does not resolve
        yet: each delivery resolves and checks again)."""
        return self._vet(url)[2]

    def _vet(self, url: str) -> tuple[str | None, str, str | None]:
        """(the address to connect to, "", None), or (None, why not, the policy's refusal if that is why)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            addresses = self._resolve(host, port)
        except (OSError, ValueError, UnicodeError) as err:
            return None, f"cannot resolve {host}: {err}", None
        if not addresses:
            return None, f"cannot resolve {host}: no address", None
        for address in addresses:
            why = refused_address(address, allow_private=self._allow_private)
            if why is not None:
                refusal = f"{host} resolves to a {why}"
                return None, refusal, refusal
        return addresses[0], "", None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
        address, why, _ = self._vet(url)
        if address is None:
            return None, why
        parts = urlsplit(url)
        literal = f"[{address}]" if ":" in address else address
        netloc = f"{literal}:{parts.port}" if parts.port is not None else literal
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        host_header = parts.netloc.rsplit("@", 1)[-1]
        extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
        try:
            response = self._client.post(
                pinned, content=body, headers={**headers, "Host": host_header}, extensions=extensions
            )
        except httpx.HTTPError as err:
            return None, f"{type(err).__name__}: {err}"[:500]
        return response.status_code, ""

    def close(self) -> None:
        self._client.close()

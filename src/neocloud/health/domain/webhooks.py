"""Webhook subscriptions and deliveries: the signature and the retry schedule, pure.

A delivery is a POST of the notice as JSON with `Neocloud-Signature: t=<unix seconds>,v1=<hex>`, where
v1 = HMAC-SHA256(secret, f"{t}.{body}") (the scheme Stripe's webhooks made familiar: the timestamp in
the signed text defeats replays). A failed attempt is retried with exponential backoff, 30 s doubling
to at most an hour, and given up after MAX_ATTEMPTS."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from neocloud.health.domain.notices import NoticeKind
from neocloud.kernel.ids import TenantId

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
SIGNATURE_HEADER = "Neocloud-Signature"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    tenant: TenantId
    url: str
    secret: str
    kinds: frozenset[NoticeKind]
    created_at: datetime
    active: bool = True


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    webhook_id: str
    notice_id: int
    tenant: TenantId
    status: DeliveryStatus
    attempts: int
    next_at: datetime | None
    last_code: int | None = None
    last_error: str = ""
    delivered_at: datetime | None = None

    def after(self, at: datetime, code: int | None, error: str) -> Delivery:
        """The delivery after one attempt at `at` that got `code` (None: no answer) or `error`."""
        attempts = self.attempts + 1
        if code is not None and 200 <= code < 300:
            return Delivery(
                self.id,
                self.webhook_id,
                self.notice_id,
                self.tenant,
                DeliveryStatus.DELIVERED,
                attempts,
                None,
                code,
                "",
                at,
            )
        if attempts >= MAX_ATTEMPTS:
            return Delivery(
                self.id,
                self.webhook_id,
                self.notice_id,
                self.tenant,
                DeliveryStatus.FAILED,
                attempts,
                None,
                code,
                error[:500],
            )
        return Delivery(
            self.id,
            self.webhook_id,
            self.notice_id,
            self.tenant,
            DeliveryStatus.PENDING,
            attempts,
            at + backoff(attempts),
            code,
            error[:500],
        )


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, … at most 1 h."""
    wait: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return wait if wait < LONGEST_RETRY else LONGEST_RETRY


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """Whether `header` is a valid signature of `body` under `secret` (what a receiver checks)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)

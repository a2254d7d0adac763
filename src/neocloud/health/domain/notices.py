"""What a tenant is told about its allocations: replaced, moved, degraded, restored, credit issued.

A notice belongs to one tenant and names only that tenant's allocation (never another tenant's ids or
the failed node's other work). Webhook subscriptions deliver them (health.app.webhooks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from neocloud.kernel.ids import AllocationId, TenantId


class NoticeKind(StrEnum):
    PREEMPTION_NOTICE = "preemption-notice"
    DEGRADED = "degraded"
    REPLACED = "replaced"
    RESTORED = "restored"
    CREDIT_ISSUED = "credit-issued"
    INVOICE_FINALIZED = "invoice-finalized"


@dataclass(frozen=True, slots=True)
class Notice:
    """`id` is assigned by the store (0 before it is stored), increasing in the order notices were added."""

    tenant: TenantId
    kind: NoticeKind
    at: datetime
    message: str
    allocation: AllocationId | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: int = 0

"""Node health on the wire: lifecycle commands and states, maintenance windows, health events (the
shape external monitors post, after NVIDIA NVSentinel / DCGM), tenant notices, webhooks (SLA reports: wire/sla.py).

(Not to be confused with wire/health.py: the /healthz and /readyz probes of the server itself.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from neocloud.wire.fields import Ident, In, Out, UtcDatetime

REASON_MAX = 500
NodeStateName = Literal[
    "in-service", "suspect", "cordoned", "draining", "out-of-service", "in-repair", "burn-in", "retired"
]
ActionName = Literal["none", "component-reset", "reboot", "replace", "contact-support"]
RepairAction = Literal["component-reset", "reboot", "replace", "contact-support"]
ComponentName = Literal["gpu", "hbm", "nvlink", "network", "host", "software"]
SeverityName = Literal["info", "warning", "critical"]
Reason = Field(min_length=1, max_length=REASON_MAX, description="why (kept in the node's events)")


# ---- requests -----------------------------------------------------------------------------------------


class NodeCommand(In):
    reason: str = Reason


class DrainCommand(In):
    reason: str = Reason
    mode: Literal["now", "allow-completion"] = Field("now", description="move work now, or let it finish")
    timeout_minutes: int = Field(
        60, ge=0, le=7 * 24 * 60, strict=True, description="allow-completion's limit"
    )


class RepairCommand(In):
    reason: str = Reason
    action: RepairAction
    until: UtcDatetime | None = Field(
        None, description="when the repair ends by itself (None: `return` ends it)"
    )


class MaintenanceCreate(In):
    start: UtcDatetime
    end: UtcDatetime
    reason: str = Reason


class HealthEventIn(In):
    """One event from an external monitor (NVSentinel/DCGM-like): the node, the component, the error
    code (an XID such as "79", a DCGM field), the severity and the recommended action."""

    node: Ident
    component: ComponentName
    code: str = Field(min_length=1, max_length=64, description="the monitor's error code, e.g. an XID")
    severity: SeverityName = "critical"
    recommended_action: ActionName = "none"
    at: UtcDatetime | None = Field(None, description="when it was seen (default: now)")
    source: str = Field("api", min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")
    message: str = Field("", max_length=2000)


class HealthEventBatch(In):
    events: list[HealthEventIn] = Field(min_length=1, max_length=1000)


class WebhookCreate(In):
    url: str = Field(
        min_length=8, max_length=2000, pattern=r"^https?://", description="http(s) URL to POST to"
    )
    events: list[
        Literal["preemption-notice", "degraded", "replaced", "restored", "credit-issued", "invoice-finalized"]
    ] = Field(min_length=1, max_length=6)


# ---- responses ----------------------------------------------------------------------------------------


class NodeHealthOut(Out):
    node: str
    state: NodeStateName
    since: datetime
    reason: str
    action: ActionName | None = None
    until: datetime | None = None
    spare: bool = False
    failures: int = 0


class NodeEventOut(Out):
    node: str
    from_state: NodeStateName | None
    to_state: NodeStateName
    at: datetime
    reason: str
    actor: str
    action: ActionName | None = None


class MaintenanceOut(Out):
    id: str
    node_id: str
    start: datetime
    end: datetime
    reason: str


class HealthEventOutcome(Out):
    node: str
    decision: str
    reason: str
    state: NodeStateName


class HealthEventsAccepted(Out):
    outcomes: list[HealthEventOutcome]


class NoticeOut(Out):
    id: int
    kind: str
    at: datetime
    message: str
    allocation: str | None
    data: dict[str, Any]


class WebhookOut(Out):
    id: str
    url: str
    events: list[str]
    secret: str | None = Field(None, description="shown once, at creation: the HMAC-SHA256 signing key")
    created_at: datetime
    active: bool


class DeliveryOut(Out):
    id: int
    webhook_id: str
    notice_id: int
    status: str
    attempts: int
    next_at: datetime | None
    last_code: int | None
    last_error: str
    delivered_at: datetime | None

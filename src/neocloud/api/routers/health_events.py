"""`POST /v1/health-events`: external monitors (NVIDIA NVSentinel, DCGM exporters, syslog watchers)
report what they saw; the remediation policy decides what it does to the node. Operator token only."""

from __future__ import annotations

from fastapi import APIRouter

from neocloud.api.deps import Caller, Health
from neocloud.kernel.health import Component, HealthObservation, RecommendedAction, Severity
from neocloud.kernel.ids import NodeId
from neocloud.wire.node_health import HealthEventBatch, HealthEventOutcome, HealthEventsAccepted

router = APIRouter(tags=["node health"])


@router.post(
    "/health-events",
    response_model=HealthEventsAccepted,
    summary="Report health events (operator): each is recorded and may quarantine its node",
)
def post_health_events(hs: Health, caller: Caller, body: HealthEventBatch) -> HealthEventsAccepted:
    caller.require_operator("reporting health events")
    now = hs.now()
    observations = [
        HealthObservation(
            NodeId(e.node),
            Component(e.component),
            Severity(e.severity),
            e.code,
            RecommendedAction(e.recommended_action),
            e.at or now,
            e.source,
            e.message,
        )
        for e in body.events
    ]
    outcomes = hs.observe_all(observations)
    return HealthEventsAccepted(outcomes=[HealthEventOutcome.from_view(o) for o in outcomes])

"""Node health calls of the API: `NodeHealthClient(NeocloudClient(url, token))`: the node lifecycle
(operators), health events (monitors, operator token), notices and webhooks (tenants)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from neocloud.client.http import NeocloudClient, _iso
from neocloud.wire.node_health import (
    DeliveryOut,
    HealthEventsAccepted,
    MaintenanceOut,
    NodeEventOut,
    NodeHealthOut,
    NoticeOut,
    WebhookOut,
)


class NodeHealthClient:
    def __init__(self, client: NeocloudClient) -> None:
        self._c = client

    def node_health(self, *, state: str | None = None) -> list[NodeHealthOut]:
        return [NodeHealthOut.model_validate(x) for x in self._c._get("/v1/node-health", state=state)]

    def node(self, node: str) -> NodeHealthOut:
        return NodeHealthOut.model_validate(self._c._get(f"/v1/nodes/{node}/health"))

    def node_events(self, node: str, *, limit: int = 100) -> list[NodeEventOut]:
        return [NodeEventOut.model_validate(x) for x in self._c._get(f"/v1/nodes/{node}/events", limit=limit)]

    def _command(self, node: str, verb: str, body: dict[str, Any]) -> NodeHealthOut:
        return NodeHealthOut.model_validate(self._c._post(f"/v1/nodes/{node}/{verb}", body))

    def cordon(self, node: str, reason: str) -> NodeHealthOut:
        return self._command(node, "cordon", {"reason": reason})

    def uncordon(self, node: str, reason: str) -> NodeHealthOut:
        return self._command(node, "uncordon", {"reason": reason})

    def drain(self, node: str, reason: str, *, mode: str = "now", timeout_minutes: int = 60) -> NodeHealthOut:
        return self._command(
            node, "drain", {"reason": reason, "mode": mode, "timeout_minutes": timeout_minutes}
        )

    def repair(self, node: str, reason: str, action: str, *, until: datetime | None = None) -> NodeHealthOut:
        return self._command(node, "repair", {"reason": reason, "action": action, "until": _iso(until)})

    def return_(self, node: str, reason: str) -> NodeHealthOut:
        return self._command(node, "return", {"reason": reason})

    def retire(self, node: str, reason: str) -> NodeHealthOut:
        return self._command(node, "retire", {"reason": reason})

    def plan_maintenance(self, node: str, start: datetime, end: datetime, reason: str) -> MaintenanceOut:
        body = {"start": _iso(start), "end": _iso(end), "reason": reason}
        return MaintenanceOut.model_validate(self._c._post(f"/v1/nodes/{node}/maintenance", body))

    def maintenance(self, *, node: str | None = None) -> list[MaintenanceOut]:
        return [MaintenanceOut.model_validate(x) for x in self._c._get("/v1/maintenance", node=node)]

    def cancel_maintenance(self, window_id: str) -> None:
        self._c._request("DELETE", f"/v1/maintenance/{window_id}")

    def report(self, events: list[dict[str, Any]]) -> HealthEventsAccepted:
        """POST health events (operator token): node, component, code, severity, recommended_action, …"""
        return HealthEventsAccepted.model_validate(self._c._post("/v1/health-events", {"events": events}))

    def notices(self, *, after: int | None = None, limit: int = 100) -> list[NoticeOut]:
        return [NoticeOut.model_validate(x) for x in self._c._get("/v1/notices", after=after, limit=limit)]

    def subscribe(self, url: str, events: list[str]) -> WebhookOut:
        return WebhookOut.model_validate(self._c._post("/v1/webhooks", {"url": url, "events": events}))

    def webhooks(self) -> list[WebhookOut]:
        return [WebhookOut.model_validate(x) for x in self._c._get("/v1/webhooks")]

    def unsubscribe(self, webhook_id: str) -> None:
        self._c._request("DELETE", f"/v1/webhooks/{webhook_id}")

    def deliveries(self, webhook_id: str, *, limit: int = 100) -> list[DeliveryOut]:
        return [
            DeliveryOut.model_validate(x)
            for x in self._c._get(f"/v1/webhooks/{webhook_id}/deliveries", limit=limit)
        ]

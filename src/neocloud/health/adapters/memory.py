"""The in-memory HealthStore: the same contract as the SQL store, for tests, the demo, the benchmark and
the simulator. One lock makes every method atomic."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from neocloud.health.app.ports import IssuedCredit, RecordedObservation
from neocloud.health.domain.lifecycle import NodeEvent, NodeHealth
from neocloud.health.domain.notices import Notice
from neocloud.health.domain.sla import Outage
from neocloud.health.domain.webhooks import Delivery, DeliveryStatus, Webhook
from neocloud.kernel.errors import Conflict
from neocloud.kernel.health import HealthObservation
from neocloud.kernel.ids import AllocationId, NodeId, TenantId


class MemoryHealthStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._nodes: dict[NodeId, NodeHealth] = {}
        self._events: list[NodeEvent] = []
        self._observations: list[RecordedObservation] = []
        self._outages: list[Outage] = []
        self._notices: list[Notice] = []
        self._credits: dict[str, IssuedCredit] = {}
        self._webhooks: dict[str, Webhook] = {}
        self._deliveries: list[Delivery] = []

    def get(self, node: NodeId) -> NodeHealth | None:
        with self._lock:
            return self._nodes.get(node)

    def all(self) -> list[NodeHealth]:
        with self._lock:
            return [self._nodes[k] for k in sorted(self._nodes)]

    def get_many(self, nodes: Iterable[NodeId]) -> dict[NodeId, NodeHealth]:
        with self._lock:
            return {n: h for n in set(nodes) if (h := self._nodes.get(n)) is not None}

    def count(self) -> int:
        with self._lock:
            return len(self._nodes)

    def add_new(self, healths: Iterable[NodeHealth]) -> int:
        with self._lock:
            added = 0
            for h in healths:
                if h.node not in self._nodes:
                    self._nodes[h.node] = h
                    added += 1
            return added

    def save(self, health: NodeHealth, event: NodeEvent | None, *, expected: NodeHealth | None) -> None:
        with self._lock:
            if self._nodes.get(health.node) != expected:
                raise Conflict(f"node {health.node} changed meanwhile; retry", details={"node": health.node})
            self._nodes[health.node] = health
            if event is not None:
                self._events.append(event)

    def events(
        self, node: NodeId | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[NodeEvent]:
        with self._lock:
            found = [
                e
                for e in self._events
                if (node is None or e.node == node) and (since is None or e.at >= since)
            ]
        return found[-limit:] if limit else []

    def add_observation(self, obs: HealthObservation, outcome: str) -> int:
        with self._lock:
            rec = RecordedObservation(len(self._observations) + 1, obs, outcome)
            self._observations.append(rec)
            return rec.id

    def observations(self, node: NodeId | None = None, limit: int = 100) -> list[RecordedObservation]:
        with self._lock:
            found = [r for r in self._observations if node is None or r.observation.node == node]
        return found[-limit:] if limit else []

    def observation_counts(self) -> dict[tuple[str, str], int]:
        with self._lock:
            counts: dict[tuple[str, str], int] = {}
            for r in self._observations:
                key = (r.observation.component.value, r.observation.action.value)
                counts[key] = counts.get(key, 0) + 1
            return counts

    def open_outage(self, outage: Outage) -> None:
        with self._lock:
            self._outages.append(outage)

    def close_outages(
        self, node: NodeId, at: datetime, allocation: AllocationId | None = None
    ) -> list[Outage]:
        closed: list[Outage] = []
        with self._lock:
            for i, o in enumerate(self._outages):
                if o.node == node and o.end is None and (allocation is None or o.allocation == allocation):
                    self._outages[i] = replace(o, end=max(at, o.start))
                    closed.append(self._outages[i])
        return closed

    def outages(self, allocation: AllocationId | None = None, since: datetime | None = None) -> list[Outage]:
        with self._lock:
            return [
                o
                for o in self._outages
                if (allocation is None or o.allocation == allocation)
                and (since is None or o.end is None or o.end > since)
            ]

    def add_notice(self, notice: Notice) -> Notice:
        with self._lock:
            stored = replace(notice, id=len(self._notices) + 1)
            self._notices.append(stored)
            for w in self._webhooks.values():
                if w.active and w.tenant == stored.tenant and stored.kind in w.kinds:
                    self._deliveries.append(
                        Delivery(
                            len(self._deliveries) + 1,
                            w.id,
                            stored.id,
                            w.tenant,
                            DeliveryStatus.PENDING,
                            0,
                            stored.at,
                        )
                    )
            return stored

    def notices(self, tenant: TenantId | None, after: int | None = None, limit: int = 100) -> list[Notice]:
        with self._lock:
            found = [
                n
                for n in self._notices
                if (tenant is None or n.tenant == tenant) and (after is None or n.id > after)
            ]
        return found[:limit]

    def add_credit(self, credit: IssuedCredit) -> bool:
        with self._lock:
            if credit.key in self._credits:
                return False
            self._credits[credit.key] = credit
            return True

    def credits(self) -> list[IssuedCredit]:
        with self._lock:
            return sorted(self._credits.values(), key=lambda c: c.key)

    def notice(self, notice_id: int) -> Notice | None:
        with self._lock:
            return self._notices[notice_id - 1] if 0 < notice_id <= len(self._notices) else None

    def add_webhook(self, webhook: Webhook) -> None:
        with self._lock:
            self._webhooks[webhook.id] = webhook

    def webhooks(self, tenant: TenantId | None) -> list[Webhook]:
        with self._lock:
            return sorted(
                (w for w in self._webhooks.values() if tenant is None or w.tenant == tenant),
                key=lambda w: w.id,
            )

    def set_webhook_active(self, webhook_id: str, active: bool) -> bool:
        with self._lock:
            w = self._webhooks.get(webhook_id)
            if w is None:
                return False
            self._webhooks[webhook_id] = replace(w, active=active)
            return True

    def deliveries(
        self, tenant: TenantId | None, webhook_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        with self._lock:
            found = [
                d
                for d in self._deliveries
                if (tenant is None or d.tenant == tenant)
                and (webhook_id is None or d.webhook_id == webhook_id)
            ]
        return found[-limit:]

    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        with self._lock:
            due = [
                d
                for d in self._deliveries
                if d.status is DeliveryStatus.PENDING and d.next_at is not None and d.next_at <= now
            ]
        return due[:limit]

    def save_delivery(self, delivery: Delivery) -> None:
        with self._lock:
            self._deliveries[delivery.id - 1] = delivery

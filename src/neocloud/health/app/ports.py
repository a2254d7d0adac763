"""Ports of the health context. Each has an in-memory implementation in health.adapters.memory.

- `HealthSource`: anything that observes nodes (an external monitor's API posts, Slurm's DOWN/DRAIN,
  the fault injector): `observe(now)` returns what it saw since it was last asked.
- `HealthStore`: node lifecycles, observations, outages, notices, issued SLA credits.
- `NodeControl`: what health asks of the control plane (control.app.replacement.NodeControl fits).
- `CreditIssuer`: billing's credit port (billing.app.service.BillingService fits).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from neocloud.billing.domain.invoices import Invoice
from neocloud.control.app.replacement import Holder
from neocloud.control.domain.allocations import Allocation
from neocloud.control.domain.maintenance import NodeMaintenance
from neocloud.fleet.fleet import Node
from neocloud.health.domain.lifecycle import NodeEvent, NodeHealth
from neocloud.health.domain.notices import Notice
from neocloud.health.domain.sla import Outage
from neocloud.health.domain.webhooks import Delivery, Webhook
from neocloud.kernel.health import HealthObservation
from neocloud.kernel.ids import AllocationId, NodeId, TenantId
from neocloud.kernel.periods import Period


class HealthSource(Protocol):
    def observe(self, now: datetime) -> list[HealthObservation]:
        """What the source saw up to `now` and has not reported before (each observation once)."""
        ...


@runtime_checkable
class AcknowledgedSource(HealthSource, Protocol):
    """A source whose observations count as reported only once they were acted on: `acknowledge()`
    after a poll succeeded; a poll that failed part-way reports the same observations again."""

    def acknowledge(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RecordedObservation:
    id: int
    observation: HealthObservation
    outcome: str


@dataclass(frozen=True, slots=True)
class IssuedCredit:
    """An SLA credit health asked billing for: once per allocation and period (`key`)."""

    key: str
    tenant: TenantId
    allocation: AllocationId
    period_start: datetime
    availability_pct: str
    amount_minor: int
    currency: str
    credit_id: str
    at: datetime


class HealthStore(Protocol):
    def get(self, node: NodeId) -> NodeHealth | None: ...
    def all(self) -> list[NodeHealth]: ...
    def get_many(self, nodes: Iterable[NodeId]) -> dict[NodeId, NodeHealth]:
        """The records of those of `nodes` that have one, in one read."""
        ...

    def count(self) -> int: ...
    def add_new(self, healths: Iterable[NodeHealth]) -> int:
        """Add the records of nodes that have none yet (others are kept), in one write; how many."""
        ...

    def save(self, health: NodeHealth, event: NodeEvent | None, *, expected: NodeHealth | None) -> None:
        """Store `health` (and its event) if the stored record is still `expected` (None: none stored);
        Conflict otherwise, so two deciders never both move a node."""
        ...

    def events(
        self, node: NodeId | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[NodeEvent]:
        """Lifecycle events, oldest first (of `node`, at or after `since`), the last `limit` of them."""
        ...

    def add_observation(self, obs: HealthObservation, outcome: str) -> int: ...
    def observations(self, node: NodeId | None = None, limit: int = 100) -> list[RecordedObservation]: ...
    def observation_counts(self) -> dict[tuple[str, str], int]:
        """How many observations were recorded, by (component, recommended action)."""
        ...

    def open_outage(self, outage: Outage) -> None: ...
    def close_outages(
        self, node: NodeId, at: datetime, allocation: AllocationId | None = None
    ) -> list[Outage]:
        """Close the open outages on `node` (of `allocation` only, when given) at `at`; the closed ones."""
        ...

    def outages(self, allocation: AllocationId | None = None, since: datetime | None = None) -> list[Outage]:
        """Outages (of `allocation`), those still open or ending after `since`."""
        ...

    def add_notice(self, notice: Notice) -> Notice: ...
    def notices(
        self, tenant: TenantId | None, after: int | None = None, limit: int = 100
    ) -> list[Notice]: ...
    def add_credit(self, credit: IssuedCredit) -> bool:
        """Record an issued credit; False (and nothing changes) when its key is already recorded."""
        ...

    def credits(self) -> list[IssuedCredit]: ...
    # webhooks: add_notice also queues a delivery to each active subscription of the notice's tenant
    # that asked for its kind, in the same transaction (durable intent, sent later, outside it)
    def add_webhook(self, webhook: Webhook) -> None: ...
    def webhooks(self, tenant: TenantId | None) -> list[Webhook]: ...
    def set_webhook_active(self, webhook_id: str, active: bool) -> bool: ...
    def deliveries(
        self, tenant: TenantId | None, webhook_id: str | None = None, limit: int = 100
    ) -> list[Delivery]: ...
    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]: ...
    def save_delivery(self, delivery: Delivery) -> None: ...
    def notice(self, notice_id: int) -> Notice | None: ...


class NodeControl(Protocol):
    def nodes(self) -> list[Node]: ...
    def node_states(self) -> dict[str, str]: ...
    def set_node_states(self, states: dict[NodeId, str]) -> None: ...
    def holders(self, node: NodeId, at: datetime) -> list[Holder]: ...
    def holders_of(self, nodes: Sequence[NodeId], at: datetime) -> dict[NodeId, list[Holder]]:
        """`holders` of several nodes in one read (only those nodes' bookings)."""
        ...

    def held_nodes(self, at: datetime) -> set[NodeId]:
        """Nodes with GPUs of a live allocation booked at or after `at` (one read for the fleet)."""
        ...

    def allocations_between(
        self, start: datetime, end: datetime, tenant: TenantId | None = None
    ) -> list[Allocation]: ...
    def replace_node(
        self, allocation_id: AllocationId, failed: NodeId, candidates: Sequence[NodeId], at: datetime
    ) -> NodeId | None: ...
    def move_domain(
        self, allocation_id: AllocationId, failed: NodeId, at: datetime
    ) -> tuple[NodeId, ...] | None: ...
    def plan_maintenance(self, window: NodeMaintenance) -> NodeMaintenance: ...
    def maintenance(self, node: NodeId | None = None) -> list[NodeMaintenance]: ...
    def cancel_maintenance(self, window_id: str) -> None: ...


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
        """POST `body`; (status code, "") or (None, why it failed). Never raises for network errors.
        The host is resolved once per call and the connection goes to an address it checked."""
        ...

    def refused(self, url: str) -> str | None:
        """Why the destination policy refuses `url`'s host as it resolves now; None when allowed."""
        ...


class CreditIssuer(Protocol):
    def issue_sla_credit(self, tenant: TenantId, amount: str, reason: str, key: str) -> str:
        """Issue a credit for the tenant's invoice, once per `key` (the same key returns the same credit
        id and issues nothing more); the credit's id."""
        ...

    def finalize(self, period: Period) -> list[Invoice]:
        """Finalize every tenant's invoice of the period (idempotent)."""
        ...

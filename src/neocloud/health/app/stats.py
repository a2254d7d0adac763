"""What /metrics shows of the health context, read now in a few whole-fleet reads: nodes by state and
model, allocations by state, GPUs committed / in use / delivered / healthy per tenant, health events by
component and action, and closed outages' durations (time to remediate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from neocloud.health.app.deps import HealthDeps
from neocloud.health.domain.lifecycle import NodeState


@dataclass(frozen=True, slots=True)
class HealthStats:
    nodes_by_state_model: dict[tuple[str, str], int]
    allocations_by_state: dict[str, int]
    gpus_committed: dict[str, int]
    gpus_delivered: dict[str, int]
    gpus_in_use: dict[str, int]
    gpus_healthy: dict[str, int]
    events_by_component_action: dict[tuple[str, str], int]
    remediation_seconds: list[float]


def fleet_stats(deps: HealthDeps) -> HealthStats:
    """What /metrics shows, read now: nodes by state and model, GPUs per tenant, health events by
    component and action, closed outages' durations (time to remediate)."""
    nodes = {n.id: n for n in deps.control.nodes()}
    by_state: dict[tuple[str, str], int] = {}
    states = {h.node: h for h in deps.store.all()}
    for node_id, node in nodes.items():
        h = states.get(node_id)
        key = (h.state.value if h else NodeState.IN_SERVICE.value, node.model)
        by_state[key] = by_state.get(key, 0) + 1
    now = deps.clock.now()
    open_short: dict[str, int] = {}
    remediated: list[float] = []
    for o in deps.store.outages():
        if o.end is None:
            open_short[o.tenant] = open_short.get(o.tenant, 0) + o.gpus
        else:
            remediated.append((o.end - o.start).total_seconds())
    committed: dict[str, int] = {}
    in_use: dict[str, int] = {}
    healthy: dict[str, int] = {}
    by_alloc_state: dict[str, int] = {}
    for a in deps.control.allocations_between(now, now + timedelta(seconds=1)):
        by_alloc_state[a.state.value] = by_alloc_state.get(a.state.value, 0) + 1
        if a.live:
            committed[a.tenant_id] = committed.get(a.tenant_id, 0) + a.gpus
        if a.state.value == "active":
            in_use[a.tenant_id] = in_use.get(a.tenant_id, 0) + a.gpus
            if a.nodes:
                ok = sum(
                    1 for n in a.nodes if (h := states.get(n)) is None or h.state is NodeState.IN_SERVICE
                )
                healthy[a.tenant_id] = healthy.get(a.tenant_id, 0) + a.gpus * ok // len(a.nodes)
    delivered = {t: max(0, g - open_short.get(t, 0)) for t, g in in_use.items()}
    return HealthStats(
        by_state,
        by_alloc_state,
        committed,
        delivered,
        in_use,
        healthy,
        deps.store.observation_counts(),
        remediated,
    )

"""One-line fixtures for the health context: NVL72 and HGX fleets, a world with health wired by
bootstrap, observations."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from neocloud.bootstrap import MEMORY
from neocloud.fleet.fleet import Fleet
from neocloud.health.app.deps import HealthSettings, SpareSettings
from neocloud.health.app.service import HealthService
from neocloud.kernel.health import Component, HealthObservation, RecommendedAction, Severity
from neocloud.kernel.ids import NodeId
from tests.builders import fleet, node
from tests.control_builders import World, world


def nvl72_fleet(racks: int = 2) -> Fleet:
    """`racks` GB200 NVL72 racks of 18 four-GPU trays, one NVLink domain each, in one SU."""
    return fleet(
        *[
            node(f"r{r}t{t:02d}", model="GB200", gpus=4, rack=f"rack-{r}", nvlink=f"nvl-{r}")
            for r in range(racks)
            for t in range(18)
        ]
    )


def health_world(
    database: str = MEMORY, fleet_: Fleet | None = None, *, nvl72_spares: int = 0, hgx_spares: int = 0
) -> tuple[World, HealthService]:
    w = world(database, fleet_ or nvl72_fleet())
    settings = HealthSettings(spares=SpareSettings(nvl72_trays=nvl72_spares, hgx_per_su=hgx_spares))
    from neocloud.bootstrap import build_health

    w.services.settings = replace(w.services.settings, health=settings, webhooks_allow_private=True)
    health = build_health(w.services.settings, w.control, w.services.engine, w.clock, w.services.billing)
    w.services.health = health
    health.sync()
    return w, health


def observation(
    node_id: str,
    at: datetime,
    *,
    component: Component = Component.HBM,
    severity: Severity = Severity.CRITICAL,
    action: RecommendedAction = RecommendedAction.CONTACT_SUPPORT,
    code: str = "48",
) -> HealthObservation:
    return HealthObservation(NodeId(node_id), component, severity, code, action, at, "test", "")

"""The demo's world (bootstrap-side): a small fleet, two tenants with tokens, and some live work.

`demo_fleet()` uses the fleet presets' "demo" design (a small GB200 NVL72 SuperPOD plus one H100 scalable
unit) when `neocloud.fleet.presets` is present, and an equivalent built here otherwise. `seed()` goes
through the ControlPlane's public use cases only, so the demo exercises the same paths as the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from neocloud.control.app.control import ControlPlane
from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.control.domain.tenancy import Role
from neocloud.fleet.fleet import Fleet, Hall, Node, Rack
from neocloud.kernel import reference as ref
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.ids import NodeId

DEMO_GB200_RACKS = 2
DEMO_H100_NODES_PER_RACK = 4  # DGX H100 per rack in the SuperPOD reference design's compute racks


def _fallback_fleet() -> Fleet:
    """2 NVL72 racks (36 trays, 144 GB200) in one SU and one H100 SU (32 nodes, 256 H100), one hall.

    CPU and memory are 0: the control plane places whole GPUs, and the presets carry the real figures."""
    hall = Hall("h1", ref.PUE_MODERN_AI_HALL)
    nodes: list[Node] = []
    racks: list[Rack] = []
    for r in range(1, DEMO_GB200_RACKS + 1):
        rack = f"h1-f1-su01-r{r}"
        racks.append(Rack(rack, hall.name, ref.NVL72_RACK_KW))
        for t in range(1, ref.NVL72_TRAYS_PER_RACK + 1):
            nodes.append(
                Node(
                    NodeId(f"{rack}-t{t:02d}"),
                    "GB200",
                    ref.NVL72_GPUS_PER_RACK // ref.NVL72_TRAYS_PER_RACK,
                    0,
                    0,
                    rack=rack,
                    nvlink=rack,
                    leaf="h1-f1-su01",
                    su="h1-f1-su01",
                    fabric="h1-f1",
                    hall=hall.name,
                )
            )
    for n in range(ref.H100_SU_NODES):
        rack = f"h1-f2-su01-r{n // DEMO_H100_NODES_PER_RACK + 1}"
        node_id = f"{rack}-n{n % DEMO_H100_NODES_PER_RACK + 1}"
        nodes.append(
            Node(
                NodeId(node_id),
                "H100",
                gpu_model("H100").gpus_per_node,
                0,
                0,
                rack=rack,
                nvlink=node_id,
                leaf="h1-f2-su01",
                su="h1-f2-su01",
                fabric="h1-f2",
                hall=hall.name,
            )
        )
    return Fleet.build("demo", nodes, racks, [hall])


def demo_fleet() -> Fleet:
    try:
        from neocloud.fleet import presets
    except ImportError:
        return _fallback_fleet()
    fleet: Fleet = presets.build("demo")
    return fleet


@dataclass
class DemoWorld:
    operator_token: str
    tenant_tokens: dict[str, str]
    reservations: list[str] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)
    fleet_summary: dict[str, Any] = field(default_factory=dict)


def seed(control: ControlPlane, now: datetime, fleet: Fleet | None = None) -> DemoWorld:
    """Import the fleet, create tenants acme and globex (admin tokens and quotas), a few reservations, and
    on-demand and spot instances. `now` is the control plane's clock (reservations start from it)."""
    summary = control.fleet.import_fleet(fleet or demo_fleet())
    _, operator_secret = control.tenancy.create_token(None, Role.OPERATOR)
    world = DemoWorld(operator_secret, {}, fleet_summary=summary)
    op_principal = control.tenancy.authenticate(operator_secret)
    for name, h100_quota in (("acme", 160), ("globex", 160)):
        tenant = control.tenancy.create_tenant(name)
        world.tenant_tokens[name] = control.tenancy.create_token(name, Role.TENANT_ADMIN)[1]
        control.tenancy.set_quota(op_principal, tenant.id, "H100", h100_quota)
        control.tenancy.set_quota(op_principal, tenant.id, "GB200", DEMO_GB200_RACKS * ref.NVL72_GPUS_PER_RACK)
    acme = control.tenancy.authenticate(world.tenant_tokens["acme"])
    globex = control.tenancy.authenticate(world.tenant_tokens["globex"])
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for who, request in (
        (acme, ReservationRequest("GB200", ref.NVL72_GPUS_PER_RACK, 24, None, "whole-nvl72")),
        (acme, ReservationRequest("H100", 32, 8, hour + timedelta(days=1), "whole-nodes")),
        (globex, ReservationRequest("H100", 64, 12, hour + timedelta(hours=2), "whole-nodes")),
        (globex, ReservationRequest("H100", 16, 4, None, "any")),
    ):
        world.reservations.append(control.reservations.reserve(who, request, f"demo-rsv-{len(world.reservations)}").id)
    for who, instance in (
        (acme, InstanceRequest("H100", 2)),
        (globex, InstanceRequest("H100", 4, spot=True)),
        (acme, InstanceRequest("GB200", 2, spot=True)),
    ):
        world.instances.append(control.instances.create_instance(who, instance, f"demo-ins-{len(world.instances)}").id)
    return world

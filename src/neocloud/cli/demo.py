"""The demo's world (bootstrap-side): a small fleet, two tenants with tokens, and some live work.

`demo_fleet()` uses the fleet presets' "demo" design (a small GB200 NVL72 SuperPOD plus one H100 scalable
unit) when `neocloud.fleet.presets` is present, and an equivalent built here otherwise. `seed()` goes
through the ControlPlane's public use cases only, so the demo exercises the same paths as the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from neocloud.billing.app.service import BillingService
from neocloud.control.app.control import ControlPlane
from neocloud.control.app.views import InstanceRequest, ReservationRequest
from neocloud.control.domain.tenancy import Role
from neocloud.fleet.fleet import Fleet, Hall, Node, Rack
from neocloud.kernel import reference as ref
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.ids import NodeId
from neocloud.kernel.periods import Period

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
    invoices: list[str] = field(default_factory=list)
    invoice_of: dict[str, str] = field(default_factory=dict)  # tenant name → its past month's invoice
    past_month: str | None = None


class MovableClock(Protocol):
    """The clock the demo's past month runs on (bootstrap.manual_clock): it moves only when told."""

    def now(self) -> datetime: ...

    def set(self, at: datetime) -> None: ...


def seed(control: ControlPlane, now: datetime, fleet: Fleet | None = None) -> DemoWorld:
    """Import the fleet, create tenants acme and globex (admin tokens and quotas), a few reservations, and
    on-demand and spot instances. `now` is the control plane's clock (reservations start from it)."""
    world = seed_accounts(control, fleet)
    seed_work(control, now, world)
    return world


def seed_accounts(control: ControlPlane, fleet: Fleet | None = None) -> DemoWorld:
    """Import the fleet; create an operator token and tenants acme and globex with admin tokens and quotas."""
    summary = control.fleet.import_fleet(fleet or demo_fleet())
    _, operator_secret = control.tenancy.create_token(None, Role.OPERATOR)
    world = DemoWorld(operator_secret, {}, fleet_summary=summary)
    op_principal = control.tenancy.authenticate(operator_secret)
    for name, h100_quota in (("acme", 160), ("globex", 160)):
        tenant = control.tenancy.create_tenant(name)
        world.tenant_tokens[name] = control.tenancy.create_token(name, Role.TENANT_ADMIN)[1]
        control.tenancy.set_quota(op_principal, tenant.id, "H100", h100_quota)
        control.tenancy.set_quota(
            op_principal, tenant.id, "GB200", DEMO_GB200_RACKS * ref.NVL72_GPUS_PER_RACK
        )
    return world


def seed_work(control: ControlPlane, now: datetime, world: DemoWorld) -> None:
    """A few reservations (now and later) and on-demand and spot instances, starting at `now`."""
    acme = control.tenancy.authenticate(world.tenant_tokens["acme"])
    globex = control.tenancy.authenticate(world.tenant_tokens["globex"])
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for who, request in (
        (acme, ReservationRequest("GB200", ref.NVL72_GPUS_PER_RACK, 24, None, "whole-nvl72")),
        (acme, ReservationRequest("H100", 32, 8, hour + timedelta(days=1), "whole-nodes")),
        (globex, ReservationRequest("H100", 64, 12, hour + timedelta(hours=2), "whole-nodes")),
        (globex, ReservationRequest("H100", 16, 4, None, "any")),
    ):
        world.reservations.append(
            control.reservations.reserve(who, request, f"demo-rsv-{len(world.reservations)}").id
        )
    for who, instance in (
        (acme, InstanceRequest("H100", 2)),
        (globex, InstanceRequest("H100", 4, spot=True)),
        (acme, InstanceRequest("GB200", 2, spot=True)),
    ):
        world.instances.append(
            control.instances.create_instance(who, instance, f"demo-ins-{len(world.instances)}").id
        )


def finished_month(now: datetime) -> Period:
    """The demo's past month: the calendar month before the one `now` less an hour falls in, so it has
    been over (and its usage settled) for at least an hour."""
    current = Period.month_of(now - timedelta(hours=1))
    return Period.month_of(current.start - timedelta(seconds=1))


def seed_past_month(
    control: ControlPlane, billing: BillingService, clock: MovableClock, world: DemoWorld, month: Period
) -> None:
    """A finished month of history through the public use cases, on a `clock` that starts inside `month`:
    a reservation and on-demand and spot instances that ran and ended, then the month finalized an hour
    after it closed (acme's invoice paid, a credit note on globex's for an outage). Needs the accounts
    (seed_accounts) and a provisioner that is ready at once."""
    acme = control.tenancy.authenticate(world.tenant_tokens["acme"])
    globex = control.tenancy.authenticate(world.tenant_tokens["globex"])
    t0 = month.start + timedelta(days=2, hours=9)

    def at(when: datetime) -> None:
        clock.set(when)
        control.reconcile()
        control.reconcile()  # provisioning finishes on the pass after it starts

    clock.set(t0)
    control.reservations.reserve(
        acme, ReservationRequest("H100", 32, 48, None, "whole-nodes"), "demo-past-rsv-0"
    )
    control.reservations.reserve(
        globex,
        ReservationRequest("GB200", ref.NVL72_GPUS_PER_RACK, 24, t0 + timedelta(days=3), "whole-nvl72"),
        "demo-past-rsv-1",
    )
    on_demand = control.instances.create_instance(globex, InstanceRequest("H100", 4), "demo-past-ins-0")
    spot = control.instances.create_instance(acme, InstanceRequest("H100", 2, spot=True), "demo-past-ins-1")
    at(t0 + timedelta(minutes=1))
    at(t0 + timedelta(hours=10))
    control.instances.stop_instance(acme, spot.id)
    at(t0 + timedelta(days=2, minutes=1))  # acme's reservation is over
    at(t0 + timedelta(days=3, minutes=1))  # globex's GB200 rack starts
    at(t0 + timedelta(days=4, minutes=1))
    control.instances.stop_instance(globex, on_demand.id)
    at(t0 + timedelta(days=5))
    clock.set(month.end + timedelta(hours=1))
    invoices = {inv.tenant_id: inv for inv in billing.finalize(month)}
    by_name = {
        control.tenancy.authenticate(token).tenant_id: name for name, token in world.tenant_tokens.items()
    }
    for tenant, invoice in sorted(invoices.items()):
        world.invoices.append(invoice.id)
        world.invoice_of[by_name[tenant]] = invoice.id
        if by_name.get(tenant) == "acme":
            billing.mark_paid(invoice.id)
        if by_name.get(tenant) == "globex":
            note = billing.credit_note(invoice.id, reason="SLA: 2 h node outage", amount="500.00")
            world.invoices.append(note.id)
    world.past_month = month.label()

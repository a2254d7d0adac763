"""The fleet map's data: every tray (node) with its place (hall → scalable unit → rack / NVLink domain),
its state and who holds it now, as compact columns the map's script draws on one canvas.

A read model over the control plane's units of work (one read-only unit of work, no use case writes):
operators and fleet-wide viewers only; a tenant gets the same 404 as for any operator page. States:
a node's lifecycle state when it is not ready (cordoned, draining, failed/in repair…), else the product
of what holds its GPUs now (reserved, on-demand, spot), else free.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from neocloud.control.app.control import ControlPlane
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import NotFound
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.products import Product, State

FREE, RESERVED, ON_DEMAND, SPOT = "free", "reserved", "on-demand", "spot"
# the health context's node states (health/domain/lifecycle.py) after the products; "spare": in service,
# held back for replacements
BASE_STATES = (FREE, RESERVED, ON_DEMAND, SPOT, "spare", "suspect", "cordoned", "draining", "out-of-service",
               "in-repair", "burn-in", "retired")
HOLDING = [State.SCHEDULED, State.PROVISIONING, State.ACTIVE, State.ENDING]


def require_fleet_view(principal: Principal) -> None:
    """Operator pages are for operators and fleet-wide viewers; anyone else gets a plain 404."""
    if not principal.sees_everything:
        raise NotFound("page not found")


def _product_state(product: Product) -> str:
    if product is Product.RESERVED:
        return RESERVED
    return SPOT if product is Product.SPOT else ON_DEMAND


@dataclass(frozen=True, slots=True)
class Holding:
    """Who holds a node's GPUs now."""

    tenants: tuple[str, ...]
    allocations: tuple[str, ...]
    used: int
    state: str


def holdings(cp: ControlPlane) -> tuple[list[Any], dict[str, str], dict[str, Holding], dict[str, str]]:
    """(nodes, node states, holding by node id, tenant names by id), read in one unit of work."""
    now = cp.deps.clock.now()
    with cp.deps.uow(read_only=True) as uow:
        nodes = uow.nodes()
        states = uow.node_states()
        booked: dict[str, list[str]] = defaultdict(list)
        for model in sorted({n.model for n in nodes}):
            for b in uow.bookings(model, now, now + timedelta(microseconds=1)):
                booked[b.node_id].append(b.allocation_id)
        live = uow.list_allocations(None, list(Product), HOLDING, None, 10**9)[0]
        tenants, _ = uow.list_tenants(None, None, 10**6)
    by_id: dict[str, Any] = {a.id: a for a in live}
    names: dict[str, str] = {t.id: t.name for t in tenants}
    held: dict[str, Holding] = {}
    for node_id, allocs in booked.items():
        found = [by_id[a] for a in allocs if a in by_id]
        if not found:
            continue
        counts: dict[str, int] = defaultdict(int)
        for a in found:
            counts[a.id] += 1
        top = max(found, key=lambda a: counts[a.id])
        held[node_id] = Holding(
            tuple(sorted({names.get(a.tenant_id, a.tenant_id) for a in found})),
            tuple(sorted({a.id for a in found})),
            len(allocs),
            _product_state(top.product),
        )
    return list(nodes), states, held, names


def fleet_map(cp: ControlPlane, principal: Principal) -> dict[str, Any]:
    """The map's columns: halls, sus [name, hall], racks [name, su], and per tray id, rack, model, gpus,
    used GPUs, state and tenant (indexes into the lists; -1: none); `nvlink` names a tray's NVLink domain
    only where it is not its rack (HGX nodes)."""
    require_fleet_view(principal)
    nodes, node_states, held, _ = holdings(cp)
    nodes = sorted(nodes, key=lambda n: (n.hall, n.su, n.rack, n.id))
    halls: dict[str, int] = {}
    sus: dict[str, int] = {}
    racks: dict[str, int] = {}
    su_rows: list[list[Any]] = []
    rack_rows: list[list[Any]] = []
    models: dict[str, int] = {}
    tenants: dict[str, int] = {}
    state_names = list(BASE_STATES)
    state_index = {s: i for i, s in enumerate(state_names)}
    col: dict[str, list[Any]] = {k: [] for k in ("id", "rack", "model", "gpus", "used", "state", "tenant")}
    nvlink: dict[str, str] = {}
    for n in nodes:
        if n.hall not in halls:
            halls[n.hall] = len(halls)
        if n.su not in sus:
            sus[n.su] = len(sus)
            su_rows.append([n.su, halls[n.hall]])
        if n.rack not in racks:
            racks[n.rack] = len(racks)
            rack_rows.append([n.rack, sus[n.su]])
        if n.model not in models:
            models[n.model] = len(models)
        h = held.get(n.id)
        state = node_states.get(n.id) or (h.state if h is not None else FREE)
        if state == "ready":
            state = h.state if h is not None else FREE
        if state not in state_index:
            state_index[state] = len(state_names)
            state_names.append(state)
        tenant = -1
        if h is not None and h.tenants:
            label = ", ".join(h.tenants)
            if label not in tenants:
                tenants[label] = len(tenants)
            tenant = tenants[label]
        col["id"].append(n.id)
        col["rack"].append(racks[n.rack])
        col["model"].append(models[n.model])
        col["gpus"].append(n.gpus)
        col["used"].append(h.used if h is not None else 0)
        col["state"].append(state_index[state])
        col["tenant"].append(tenant)
        if n.nvlink != n.rack:
            nvlink[n.id] = n.nvlink
    return {
        "at": cp.deps.clock.now().isoformat(),
        "states": state_names,
        "models": list(models),
        "tenants": list(tenants),
        "halls": list(halls),
        "sus": su_rows,
        "racks": rack_rows,
        "trays": col,
        "nvlink": nvlink,
    }


def it_power_kw(nodes: list[Any]) -> float:
    """IT power of the nodes at their catalog maximum (kernel.gpus node_max_kw), in kW: the figure revenue
    per MW divides by."""
    return sum(gpu_model(n.model).node_max_kw for n in nodes)

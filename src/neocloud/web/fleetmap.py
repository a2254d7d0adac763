"""The fleet map's data: every tray (node) with its place (hall → scalable unit → rack / NVLink domain),
its state and who holds it now, as compact columns the map's script draws on one canvas.

A read model over the control plane's units of work (one read-only unit of work, no use case writes):
operators and fleet-wide viewers only; a tenant gets the same 404 as for any operator page. States:
a node's lifecycle state when it is not ready (cordoned, draining, failed/in repair…), else the product
of what holds its GPUs now (reserved, on-demand, spot), else free.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from neocloud.control.app.control import ControlPlane
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import NotFound
from neocloud.kernel.gpus import CATALOG, gpu_model
from neocloud.kernel.products import Product, State

FREE, RESERVED, ON_DEMAND, SPOT = "free", "reserved", "on-demand", "spot"
# the health context's node states (health/domain/lifecycle.py) after the products; "spare": in service,
# held back for replacements
BASE_STATES = (
    FREE,
    RESERVED,
    ON_DEMAND,
    SPOT,
    "spare",
    "suspect",
    "cordoned",
    "draining",
    "out-of-service",
    "in-repair",
    "burn-in",
    "retired",
)
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


def holdings(
    cp: ControlPlane, cache: dict[str, Any] | None = None, only: Any = None
) -> tuple[list[Any], dict[str, str], dict[str, Holding], dict[str, str]]:
    """(nodes sorted by id, node states, holding by node id, tenant names by id). The nodes come from
    the topology (`cache`); `only` (a Node) limits the holdings read to that node."""
    topo = topology(cp, cache)
    nodes = [only] if only is not None else topo.nodes
    now = cp.deps.clock.now()
    with cp.deps.uow(read_only=True) as uow:
        states = uow.node_states()
        booked: dict[str, list[str]] = defaultdict(list)
        for model in sorted({n.model for n in nodes}):
            ids = [only.id] if only is not None else None
            for b in uow.bookings(model, now, now + timedelta(microseconds=1), ids):
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


@dataclass(frozen=True, slots=True)
class Topology:
    """The static half of the map: where every tray is. Built once per set of nodes (`version`)."""

    version: str
    document: dict[str, Any]
    position: dict[str, int]
    nodes: list[Any]  # every Node, by id
    by_id: dict[str, Any]


VERSION_TTL_S = 2.0


def node_set_version(cp: ControlPlane, cache: dict[str, Any] | None = None) -> str:
    """Changes whenever a node is added (UnitOfWork.node_version per catalog model); read from the store
    at most every VERSION_TTL_S seconds per process (a node just imported shows within that)."""
    hit = cache.get("node-set-version") if cache is not None else None
    if isinstance(hit, tuple) and hit[0] > time.monotonic():
        return str(hit[1])
    with cp.deps.uow(read_only=True) as uow:
        parts = [uow.node_version(m) for m in sorted(CATALOG)]
    version = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
    if cache is not None:
        cache["node-set-version"] = (time.monotonic() + VERSION_TTL_S, version)
    return version


def topology(cp: ControlPlane, cache: dict[str, Any] | None = None, version: str | None = None) -> Topology:
    """The topology document, from `cache` while the node set is unchanged. Columns: halls, sus
    [name, hall], racks [name, su], and per tray (ordered hall, SU, rack, id): its name (the id less
    "RACK-" where it starts so; "!"+id otherwise), rack index, model index and GPUs; `nvlink` names a
    tray's NVLink domain only where it is not its rack (HGX nodes)."""
    version = version or node_set_version(cp, cache)
    hit = cache.get("topology") if cache is not None else None
    if isinstance(hit, Topology) and hit.version == version:
        return hit
    with cp.deps.uow(read_only=True) as uow:
        nodes = sorted(uow.nodes(), key=lambda n: (n.hall, n.su, n.rack, n.id))
    halls: dict[str, int] = {}
    sus: dict[str, int] = {}
    racks: dict[str, int] = {}
    su_rows: list[list[Any]] = []
    rack_rows: list[list[Any]] = []
    models: dict[str, int] = {}
    names: list[str] = []
    rack_col: list[int] = []
    model_col: list[int] = []
    gpus_col: list[int] = []
    nvlink: dict[str, str] = {}
    position: dict[str, int] = {}
    for i, n in enumerate(nodes):
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
        prefix = n.rack + "-"
        names.append(n.id[len(prefix) :] if n.id.startswith(prefix) else "!" + n.id)
        rack_col.append(racks[n.rack])
        model_col.append(models[n.model])
        gpus_col.append(n.gpus)
        position[n.id] = i
        if n.nvlink != n.rack:
            nvlink[n.id] = n.nvlink
    document = {
        "version": version,
        "models": list(models),
        "halls": list(halls),
        "sus": su_rows,
        "racks": rack_rows,
        "trays": {"name": names, "rack": rack_col, "model": model_col, "gpus": gpus_col},
        "nvlink": nvlink,
        "it_kw": round(it_power_kw(nodes), 1),
    }
    by_id_sorted = sorted(nodes, key=lambda n: n.id)
    found = Topology(version, document, position, by_id_sorted, {n.id: n for n in nodes})
    if cache is not None:
        cache["topology"] = found
    return found


def fleet_state(
    cp: ControlPlane, principal: Principal, cache: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The live half: the trays that are not free, by their position in the topology of `version`:
    `held` rows [position, state index, tenant index, GPUs used]; `states` and `tenants` name the indexes.
    Operators and fleet-wide viewers only."""
    require_fleet_view(principal)
    topo = topology(cp, cache)
    now = cp.deps.clock.now()
    with cp.deps.uow(read_only=True) as uow:
        node_states = uow.node_states()
        booked: dict[str, list[str]] = defaultdict(list)
        for model in topo.document["models"]:
            for b in uow.bookings(model, now, now + timedelta(microseconds=1)):
                booked[b.node_id].append(b.allocation_id)
        live = uow.list_allocations(None, list(Product), HOLDING, None, 10**9)[0] if booked else []
        tenants, _ = uow.list_tenants(None, None, 10**6)
    by_id: dict[str, Any] = {a.id: a for a in live}
    names: dict[str, str] = {t.id: t.name for t in tenants}
    state_names = list(BASE_STATES)
    state_index = {s: i for i, s in enumerate(state_names)}
    tenant_labels: dict[str, int] = {}
    rows: list[list[int]] = []
    for node_id in set(booked) | set(node_states):
        pos = topo.position.get(node_id)
        if pos is None:
            continue
        allocs = [by_id[a] for a in booked.get(node_id, ()) if a in by_id]
        state = node_states.get(node_id, "ready")
        if state == "ready":
            state = _product_state(max(allocs, key=lambda a: a.gpus).product) if allocs else FREE
        if state not in state_index:
            state_index[state] = len(state_names)
            state_names.append(state)
        tenant = -1
        if allocs:
            label = ", ".join(sorted({names.get(a.tenant_id, a.tenant_id) for a in allocs}))
            tenant = tenant_labels.setdefault(label, len(tenant_labels))
        rows.append([pos, state_index[state], tenant, len(booked.get(node_id, ()))])
    rows.sort()
    return {
        "version": topo.version,
        "at": now.isoformat(),
        "states": state_names,
        "tenants": list(tenant_labels),
        "held": rows,
    }


def it_power_kw(nodes: list[Any]) -> float:
    """IT power of the nodes at their catalog maximum (kernel.gpus node_max_kw), in kW: the figure revenue
    per MW divides by."""
    return sum(gpu_model(n.model).node_max_kw for n in nodes)

"""The fleet map's read model: where every tray (node) is (hall → scalable unit → rack / NVLink domain),
its state and who holds it now, as columns (numpy arrays) a console draws on one canvas.

Two halves. The *topology* is static while no node is added: it is built once per node-set version,
from the node table read as columns (`NodeTable`: one query, no Node objects; SQL and memory alike) by
layout.py (numpy), and kept in this service until the version changes; `warm()` builds it ahead of the
first request (the console calls it in the background at server start). The *live* half (states and
holders) is read per request: node states, the bookings that hold a GPU now, the live allocations.

Operators and fleet-wide viewers only: anyone else gets the plain 404 of a page that is not there.
States: a node's lifecycle state when it is not ready (cordoned, draining, in repair…), else the product
of what holds its GPUs now (reserved, on-demand, spot), else free.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from neocloud.control.app.layout import IntArray, Topology, build_topology
from neocloud.control.app.nodetable import NodeColumns, NodeTable
from neocloud.control.app.views import NodeView
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import NotFound
from neocloud.kernel.gpus import CATALOG
from neocloud.kernel.products import Product, State

if TYPE_CHECKING:
    from neocloud.control.app.deps import Deps


FREE, RESERVED, ON_DEMAND, SPOT = "free", "reserved", "on-demand", "spot"
# after the products, the health context's node states (health/domain/lifecycle.py); "spare": in
# service, held back for replacements. A state byte indexes this list (unknown states are appended).
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
VERSION_TTL_S = 2.0


class StoreNodeTable:
    """The NodeTable of any store: its units of work's `nodes()`, as columns (the memory store's)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def node_columns(self) -> NodeColumns:
        with self._deps.uow(read_only=True) as uow:
            return NodeColumns.of(uow.nodes())


@dataclass(frozen=True, slots=True)
class Holding:
    """Who holds a node's GPUs now."""

    tenants: tuple[str, ...]
    allocations: tuple[str, ...]
    used: int
    state: str


@dataclass(frozen=True, slots=True)
class LiveState:
    """The live half, by tray position of topology `version`: `state` one byte per tray (indexes
    `states`); for the held trays, `held` positions with `tenant` (indexes `tenants`, -1 none) and
    `used` GPUs; `rack_used` the GPUs held per rack (the zoomed-out heat-map, drawn first)."""

    version: str
    at: str
    states: list[str]
    tenants: list[str]
    state: npt.NDArray[np.uint8]
    held: IntArray
    tenant: IntArray
    used: IntArray
    rack_used: IntArray
    rack_bad: IntArray


def _product_state(product: Product) -> str:
    if product is Product.RESERVED:
        return RESERVED
    return SPOT if product is Product.SPOT else ON_DEMAND


def require_fleet_view(principal: Principal) -> None:
    """Operator pages are for operators and fleet-wide viewers; anyone else gets a plain 404."""
    if not principal.sees_everything:
        raise NotFound("page not found")


class FleetMapQueries:
    """The fleet map's queries (operators and fleet-wide viewers). Holds the topology of the current
    node-set version (thread-safe; one build at a time)."""

    def __init__(self, deps: Deps, table: NodeTable | None = None) -> None:
        self._deps = deps
        self._table = table or StoreNodeTable(deps)
        self._lock = threading.Lock()
        self._topology: Topology | None = None
        self._version: tuple[float, str] | None = None

    def version(self) -> str:
        """Changes whenever a node is added (UnitOfWork.node_version per catalog model); read from the
        store at most every VERSION_TTL_S seconds (a node just imported shows within that)."""
        hit = self._version
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self._deps.uow(read_only=True) as uow:
            parts = [uow.node_version(m) for m in sorted(CATALOG)]
        version = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
        self._version = (time.monotonic() + VERSION_TTL_S, version)
        return version

    def warm(self) -> Topology:
        """Build the topology now (the console calls it in the background at start)."""
        return self._current()

    def models(self) -> list[str]:
        """The GPU models the fleet has (a catalog fact, not a tenant's: anyone may ask)."""
        return list(self._current().models)

    def topology(self, principal: Principal) -> Topology:
        require_fleet_view(principal)
        return self._current()

    def _current(self) -> Topology:
        version = self.version()
        found = self._topology
        if found is not None and found.version == version:
            return found
        with self._lock:
            found = self._topology
            if found is not None and found.version == version:
                return found
            found = build_topology(self._table.node_columns(), version)
            self._topology = found
            return found

    def live(self, principal: Principal) -> LiveState:
        """States and holders now, against the current topology."""
        require_fleet_view(principal)
        topo = self._current()
        now = self._deps.clock.now()
        with self._deps.uow(read_only=True) as uow:
            node_states = uow.node_states()
            booked: dict[str, list[str]] = defaultdict(list)
            for model in topo.models:
                for b in uow.bookings(model, now, now + timedelta(microseconds=1)):
                    booked[b.node_id].append(b.allocation_id)
            live = uow.list_allocations(None, list(Product), HOLDING, None, 10**9)[0] if booked else []
            tenants, _ = uow.list_tenants(None, None, 10**6)
        by_id: dict[str, Any] = {a.id: a for a in live}
        names = {t.id: t.name for t in tenants}
        states = list(BASE_STATES)
        index = {s: i for i, s in enumerate(states)}
        labels: dict[str, int] = {}
        state = np.zeros(topo.size, dtype=np.uint8)
        for node_id, st in node_states.items():
            pos = topo.position.get(node_id)
            if pos is None or st == "ready":
                continue
            if st not in index:
                index[st] = len(states)
                states.append(st)
            state[pos] = min(index[st], 255)
        held: list[int] = []
        tenant: list[int] = []
        used: list[int] = []
        for node_id, allocs in booked.items():
            pos = topo.position.get(node_id)
            if pos is None:
                continue
            found = [by_id[a] for a in allocs if a in by_id]
            if not found:
                continue
            if state[pos] == 0:
                state[pos] = index[_product_state(max(found, key=lambda a: a.gpus).product)]
            label = ", ".join(sorted({names.get(a.tenant_id, a.tenant_id) for a in found}))
            held.append(pos)
            tenant.append(labels.setdefault(label, len(labels)))
            used.append(len(allocs))
        order = np.argsort(np.asarray(held, dtype=np.int64), kind="stable")
        held_a = np.asarray(held, dtype=np.int64)[order]
        used_a = np.asarray(used, dtype=np.int64)[order]
        rack_used = np.bincount(topo.tray_rack[held_a], weights=used_a, minlength=len(topo.racks))
        in_product = np.zeros(256, dtype=bool)
        in_product[[index[s] for s in (FREE, RESERVED, ON_DEMAND, SPOT, "spare")]] = True
        bad = ~in_product[state]
        return LiveState(
            version=topo.version,
            at=now.isoformat(),
            states=states,
            tenants=list(labels),
            state=state,
            held=held_a,
            tenant=np.asarray(tenant, dtype=np.int64)[order],
            used=used_a,
            rack_used=rack_used.astype(np.int64),
            rack_bad=np.bincount(topo.tray_rack[bad], minlength=len(topo.racks)).astype(np.int64),
        )

    def holdings(
        self, principal: Principal, node_id: str | None = None
    ) -> tuple[Topology, dict[str, str], dict[str, Holding]]:
        """(topology, node states, holding by node id): of every node, or of `node_id` only."""
        require_fleet_view(principal)
        topo = self._current()
        if node_id is not None and node_id not in topo.position:
            raise NotFound(f"node {node_id!r} not found")
        now = self._deps.clock.now()
        with self._deps.uow(read_only=True) as uow:
            states = uow.node_states()
            booked: dict[str, list[str]] = defaultdict(list)
            models = topo.models
            if node_id is not None:
                models = [topo.models[int(topo.tray_model[topo.position[node_id]])]]
            for model in models:
                ids = [node_id] if node_id is not None else None
                for b in uow.bookings(model, now, now + timedelta(microseconds=1), ids):
                    booked[b.node_id].append(b.allocation_id)
            live = uow.list_allocations(None, list(Product), HOLDING, None, 10**9)[0] if booked else []
            tenants, _ = uow.list_tenants(None, None, 10**6)
        by_id: dict[str, Any] = {a.id: a for a in live}
        names = {t.id: t.name for t in tenants}
        held: dict[str, Holding] = {}
        for nid, allocs in booked.items():
            found = [by_id[a] for a in allocs if a in by_id]
            if not found:
                continue
            counts: dict[str, int] = defaultdict(int)
            for a in allocs:
                counts[a] += 1
            top = max(found, key=lambda a: counts[a.id])
            held[nid] = Holding(
                tuple(sorted({names.get(a.tenant_id, a.tenant_id) for a in found})),
                tuple(sorted({a.id for a in found})),
                len(allocs),
                _product_state(top.product),
            )
        return topo, states, held

    def node(self, principal: Principal, node_id: str) -> tuple[NodeView, Holding | None]:
        """One node's place, state and holder (404 for a node that is not there)."""
        topo, states, held = self.holdings(principal, node_id)
        return topo.node_view(node_id, states.get(node_id, "ready")), held.get(node_id)

    def nodes_page(
        self,
        principal: Principal,
        state: str | None = None,
        contains: str | None = None,
        after: str | None = None,
        limit: int = 200,
    ) -> tuple[list[tuple[NodeView, Holding | None]], dict[str, int], str | None]:
        """Nodes in id order (in `state`, with `contains` in the id, after id `after`), up to `limit`,
        each with its holder; the count of nodes by state; the cursor of the next page (None: last)."""
        topo, states, held = self.holdings(principal)
        counts: dict[str, int] = defaultdict(int)
        for st in states.values():
            counts[st] += 1
        counts["ready"] = topo.size - sum(v for k, v in counts.items() if k != "ready")
        rows: list[tuple[NodeView, Holding | None]] = []
        more = False
        ids = topo.columns.id
        for row in topo.by_id.tolist():
            node_id = ids[row]
            st = states.get(node_id) or "ready"
            if (
                (state and st != state)
                or (contains and contains not in node_id)
                or (after and node_id <= after)
            ):
                continue
            if len(rows) == limit:
                more = True
                break
            rows.append((topo.row_view(row, st), held.get(node_id)))
        return rows, dict(counts), rows[-1][0].id if more and rows else None

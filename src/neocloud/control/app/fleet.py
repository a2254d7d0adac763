"""Fleet use cases: import nodes, list them (tenants see only what they hold)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from neocloud.control.app.deps import Deps, checked_page
from neocloud.control.app.views import (
    NodeView,
    Page,
    PageRequest,
)
from neocloud.control.domain import calendar
from neocloud.control.domain.tenancy import (
    Principal,
)
from neocloud.fleet.fleet import Fleet
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.ids import NODE_ID
from neocloud.kernel.products import Product


class FleetService:
    """The nodes the control plane allocates."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def import_fleet(self, fleet: Fleet, *, principal: Principal | None = None) -> dict[str, Any]:
        """Add the fleet's nodes (ids already present are left as they are)."""
        if principal is not None:
            principal.require_operator("importing a fleet")
        bad = [n.id for n in fleet.nodes if not NODE_ID.match(n.id)]
        if bad:
            raise InvalidInput(
                f"node id {bad[0]!r} is not a host name (letters, digits, _ . -; at most 64; starting with "
                f"a letter or digit): Slurm and the topology would rename it ({len(bad)} such ids)",
                details={"field": "id", "value": bad[0], "count": len(bad)},
            )
        with self._deps.uow() as uow:
            added = uow.add_nodes(fleet.nodes)
            uow.commit()
        return {
            "fleet": fleet.name,
            "nodes": len(fleet.nodes),
            "added": added,
            "skipped": len(fleet.nodes) - added,
            "gpus": fleet.gpus_by_model(),
        }

    def list_nodes(self, principal: Principal, page: PageRequest | None = None) -> Page[NodeView]:
        """Operators and fleet viewers see every node; a tenant sees only the nodes it holds now, and
        never another tenant's allocation ids."""
        p = checked_page(page)
        now = self._deps.clock.now()
        with self._deps.uow(read_only=True) as uow:
            nodes = uow.nodes()
            states = uow.node_states()
            holders: dict[tuple[str, int], str] = {}
            for model in {n.model for n in nodes}:
                for b in uow.bookings(model, now, now + timedelta(microseconds=1)):
                    holders[(b.node_id, b.slot)] = b.allocation_id
            mine: set[str] | None = None
            if not principal.sees_everything:
                live = uow.list_allocations(principal.tenant_id or "", list(Product), None, None, 10**9)[0]
                mine = {a.id for a in live}
        views = []
        for n in sorted(nodes, key=lambda x: x.id):
            slots = [holders.get((n.id, s)) for s in range(n.gpus)]
            if mine is not None:
                slots = [a if a in mine else None for a in slots]
                if not any(slots):
                    continue
            views.append(
                NodeView(n.id, n.model, n.gpus, n.path_text(), states.get(n.id, calendar.READY), slots)
            )
        after = [v for v in views if p.cursor is None or v.id > p.cursor]
        items = after[: p.limit]
        return Page(items, items[-1].id if len(after) > p.limit else None, len(after))

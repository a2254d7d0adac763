"""Instances: on-demand and spot nodes from now until stopped (or, for spot, preempted).

On-demand may take back spot capacity, starting once the spot notice elapses; spot takes only what is
free from now on. Admission is shared with reservations (`admit.admit`).
"""

from __future__ import annotations

from collections.abc import Sequence

from neocloud.control.app import admit, present
from neocloud.control.app.access import request_tenant, visible_allocation
from neocloud.control.app.allocations import finish
from neocloud.control.app.deps import Deps, checked_page, next_cursor
from neocloud.control.app.views import InstanceRequest, InstanceView, Page, PageRequest
from neocloud.control.domain.shapes import Shape, total_minor
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import gpu_model
from neocloud.kernel.products import Product, State


class InstanceService:
    """Create, list, show and stop on-demand and spot instances."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def create_instance(
        self, principal: Principal, request: InstanceRequest, idempotency_key: str | None = None
    ) -> InstanceView:
        """`nodes` whole nodes from now until stopped. On-demand may take back spot capacity (starting
        once the spot notice elapses); spot takes only what is free from now on."""
        principal.require_write("starting an instance")
        if not 1 <= request.nodes <= 10_000:
            raise InvalidInput("nodes must be in 1..10000", details={"nodes": request.nodes})
        model = gpu_model(request.model)
        product = Product.SPOT if request.spot else Product.ON_DEMAND
        gpus = request.nodes * model.gpus_per_node
        tenant = request_tenant(self._deps, principal, request.project)
        hourly = total_minor(self._deps.prices.gpu_hour(model.name, product, tenant), gpus, 1)
        now = self._deps.clock.now()
        request_ = admit.AdmissionRequest(
            product,
            model.name,
            Shape.WHOLE_NODES,
            gpus,
            now,
            None,
            hourly,
            project=request.project,
            idempotency_key=idempotency_key,
            nodes_requested=request.nodes,
            asked=(("spot", str(request.spot)),),
        )
        alloc = admit.admit(self._deps, principal, request_, now)
        return present.instance_view(alloc)

    def list_instances(
        self, principal: Principal, page: PageRequest | None = None, *, states: Sequence[State] | None = None
    ) -> Page[InstanceView]:
        """The caller's on-demand and spot instances (every tenant's for operators), by id; of `states`."""
        p = checked_page(page)
        tenant = None if principal.sees_everything else (principal.tenant_id or "")
        with self._deps.uow(read_only=True) as uow:
            items, total = uow.list_allocations(
                tenant, [Product.ON_DEMAND, Product.SPOT], states, p.cursor, p.limit
            )
        return Page([present.instance_view(a) for a in items], next_cursor(items, p.limit, total), total)

    def get_instance(self, principal: Principal, instance_id: str) -> InstanceView:
        return present.instance_view(
            visible_allocation(
                self._deps, principal, instance_id, (Product.ON_DEMAND, Product.SPOT), "instance"
            )
        )

    def stop_instance(self, principal: Principal, instance_id: str) -> InstanceView:
        principal.require_write("stopping an instance")
        return present.instance_view(
            finish(self._deps, principal, instance_id, (Product.ON_DEMAND, Product.SPOT), "instance")
        )

"""The control plane's use cases: tenancy, fleet, reservations, instances, calendar, reconcile.

Tenancy is enforced here, so every interface (API, CLI, console) inherits it: a tenant principal never
sees, counts or touches another tenant's objects, and another tenant's id answers NotFound exactly like
a missing one. Each use case is load → decide (pure domain) → persist; calls to the provisioner happen
only in `reconcile`, outside any transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from neocloud.app.ports import Clock, IdSource, PriceBook, Provisioner, UnitOfWork
from neocloud.app.views import (
    CalendarView,
    EventView,
    InstanceRequest,
    InstanceView,
    NodeView,
    Page,
    PageRequest,
    ProjectView,
    QuotaView,
    QuoteView,
    ReconcileReport,
    ReservationRequest,
    ReservationView,
    TenantView,
    TokenView,
)
from neocloud.domain.fleet import Fleet
from neocloud.domain.tenancy import Principal, Role

DEFAULT_SPOT_NOTICE = timedelta(minutes=2)


class ControlPlane:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        provisioner: Provisioner,
        prices: PriceBook,
        policy_name: str = "default",
        *,
        ids: IdSource | None = None,
        spot_notice: timedelta = DEFAULT_SPOT_NOTICE,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._provisioner = provisioner
        self._prices = prices
        self._policy_name = policy_name
        self._ids = ids
        self._spot_notice = spot_notice

    # identity and tenancy
    def authenticate(self, secret: str) -> Principal:
        raise NotImplementedError

    def create_tenant(self, name: str, *, principal: Principal | None = None) -> TenantView:
        raise NotImplementedError

    def list_tenants(self, principal: Principal, page: PageRequest | None = None) -> Page[TenantView]:
        raise NotImplementedError

    def get_tenant(self, principal: Principal, tenant_id: str) -> TenantView:
        raise NotImplementedError

    def create_project(self, principal: Principal, tenant_id: str, name: str) -> ProjectView:
        raise NotImplementedError

    def list_projects(self, principal: Principal, page: PageRequest | None = None) -> Page[ProjectView]:
        raise NotImplementedError

    def create_token(
        self, tenant_name: str | None, role: Role | str, project: str | None = None,
        *, principal: Principal | None = None,
    ) -> tuple[TokenView, str]:
        raise NotImplementedError

    def set_quota(
        self, principal: Principal, tenant_id: str, model: str, gpus: int, project_id: str | None = None
    ) -> QuotaView:
        raise NotImplementedError

    def list_quotas(self, principal: Principal) -> list[QuotaView]:
        raise NotImplementedError

    # fleet
    def import_fleet(self, fleet: Fleet, *, principal: Principal | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def list_nodes(self, principal: Principal, page: PageRequest | None = None) -> Page[NodeView]:
        raise NotImplementedError

    # reservations
    def quote(self, principal: Principal, request: ReservationRequest) -> QuoteView:
        raise NotImplementedError

    def reserve(
        self, principal: Principal, request: ReservationRequest, idempotency_key: str | None = None
    ) -> ReservationView:
        raise NotImplementedError

    def list_reservations(
        self, principal: Principal, page: PageRequest | None = None, state: str | None = None
    ) -> Page[ReservationView]:
        raise NotImplementedError

    def get_reservation(self, principal: Principal, reservation_id: str) -> ReservationView:
        raise NotImplementedError

    def cancel_reservation(self, principal: Principal, reservation_id: str) -> ReservationView:
        raise NotImplementedError

    def extend_reservation(self, principal: Principal, reservation_id: str, hours: int) -> ReservationView:
        raise NotImplementedError

    def calendar(
        self, principal: Principal, model: str, shape: str, start: datetime, end: datetime, step_hours: int = 1
    ) -> CalendarView:
        raise NotImplementedError

    # instances
    def create_instance(
        self, principal: Principal, request: InstanceRequest, idempotency_key: str | None = None
    ) -> InstanceView:
        raise NotImplementedError

    def list_instances(self, principal: Principal, page: PageRequest | None = None) -> Page[InstanceView]:
        raise NotImplementedError

    def get_instance(self, principal: Principal, instance_id: str) -> InstanceView:
        raise NotImplementedError

    def stop_instance(self, principal: Principal, instance_id: str) -> InstanceView:
        raise NotImplementedError

    def list_events(self, principal: Principal, allocation_id: str) -> list[EventView]:
        raise NotImplementedError

    # reconciler
    def reconcile(self, max_items: int = 500) -> ReconcileReport:
        raise NotImplementedError

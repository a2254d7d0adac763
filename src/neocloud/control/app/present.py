"""Domain objects to views (what the edge sees)."""

from __future__ import annotations

from neocloud.control.app.views import (
    EventView,
    InstanceView,
    ProjectView,
    QuotaView,
    ReservationView,
    TenantView,
    TokenView,
)
from neocloud.control.domain.allocations import Allocation, Event
from neocloud.control.domain.quotas import Quota
from neocloud.control.domain.shapes import minor_text
from neocloud.control.domain.tenancy import Project, Tenant, Token
from neocloud.kernel.products import Product


def tenant_view(t: Tenant) -> TenantView:
    return TenantView(t.id, t.name, t.created_at, t.suspended_at)


def token_view(t: Token) -> TokenView:
    return TokenView(
        t.id, t.tenant_id, t.role, t.created_at, t.prefix, t.project_id, t.expires_at, t.revoked_at
    )


def project_view(p: Project) -> ProjectView:
    return ProjectView(p.id, p.tenant_id, p.name, p.created_at)


def quota_view(q: Quota) -> QuotaView:
    return QuotaView(q.tenant_id, q.project_id, q.model, q.gpus)


def reservation_view(a: Allocation) -> ReservationView:
    assert a.end is not None, "a reservation always has an end"
    return ReservationView(
        a.id,
        a.tenant_id,
        a.project_id,
        a.model,
        a.gpus,
        a.shape,
        a.start,
        a.end,
        a.state.value,
        minor_text(a.price_minor),
        a.currency,
        a.id,
        list(a.nodes),
        a.created_at,
    )


def instance_view(a: Allocation) -> InstanceView:
    return InstanceView(
        a.id,
        a.tenant_id,
        a.project_id,
        a.model,
        a.nodes_requested,
        a.product is Product.SPOT,
        a.state.value,
        list(a.nodes),
        a.gpus,
        a.created_at,
        a.started_at,
        a.ended_at,
        a.preempted_at,
        a.notice_until,
        minor_text(a.price_minor),
        a.currency,
    )


def event_view(e: Event) -> EventView:
    return EventView(
        e.allocation_id, e.from_state.value if e.from_state else None, e.to_state.value, e.at, e.reason
    )

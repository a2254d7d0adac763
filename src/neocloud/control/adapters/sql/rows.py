"""Rows of the control plane's tables as domain objects, and domain objects as rows."""

from __future__ import annotations

import json
from typing import Any

from neocloud.control.domain.allocations import Allocation, Event, GpuBooking
from neocloud.control.domain.tenancy import Project, Role, Tenant, Token
from neocloud.kernel.audit import Actor, AuditEntry, AuditRecord
from neocloud.kernel.ids import AllocationId, NodeId, ProjectId, TenantId
from neocloud.kernel.products import Product, State


def to_tenant(r: Any) -> Tenant:
    return Tenant(TenantId(r.id), r.name, r.created_at, r.suspended_at)


def to_token(r: Any) -> Token:
    return Token(
        r.id,
        r.secret_hash,
        r.prefix,
        Role(r.role),
        TenantId(r.tenant_id) if r.tenant_id else None,
        ProjectId(r.project_id) if r.project_id else None,
        r.created_at,
        r.expires_at,
        r.revoked_at,
    )


def to_audit(r: Any) -> AuditRecord:
    return AuditRecord(
        int(r.seq),
        AuditEntry(
            r.at, Actor(r.actor, r.actor_tenant_id), r.action, r.target, r.tenant_id, json.loads(r.details)
        ),
    )


def to_project(r: Any) -> Project:
    return Project(ProjectId(r.id), TenantId(r.tenant_id), r.name, r.created_at)


def to_alloc(r: Any) -> Allocation:
    return Allocation(
        AllocationId(r.id),
        TenantId(r.tenant_id),
        ProjectId(r.project_id),
        Product(r.product),
        r.model,
        r.gpus,
        r.start_at,
        r.end_at,
        State(r.state),
        r.created_at,
        tuple(NodeId(n) for n in json.loads(r.nodes)),
        r.nodes_requested,
        r.shape,
        r.price_minor,
        r.currency,
        r.idempotency_key,
        r.started_at,
        r.ended_at,
        r.preempted_at,
        r.notice_until,
        r.request_digest,
    )


def alloc_row(a: Allocation) -> dict[str, Any]:
    return {
        "id": a.id,
        "tenant_id": a.tenant_id,
        "project_id": a.project_id,
        "product": a.product.value,
        "model": a.model,
        "gpus": a.gpus,
        "start_at": a.start,
        "end_at": a.end,
        "state": a.state.value,
        "created_at": a.created_at,
        "nodes": json.dumps(list(a.nodes)),
        "nodes_requested": a.nodes_requested,
        "shape": a.shape,
        "price_minor": a.price_minor,
        "currency": a.currency,
        "idempotency_key": a.idempotency_key,
        "started_at": a.started_at,
        "ended_at": a.ended_at,
        "preempted_at": a.preempted_at,
        "notice_until": a.notice_until,
        "request_digest": a.request_digest,
    }


def to_booking(r: Any) -> GpuBooking:
    return GpuBooking(AllocationId(r.allocation_id), NodeId(r.node_id), r.slot, r.start_at, r.end_at)


def event_row(event: Event) -> dict[str, Any]:
    return {
        "allocation_id": event.allocation_id,
        "tenant_id": event.tenant_id,
        "project_id": event.project_id,
        "product": event.product.value,
        "model": event.model,
        "gpus": event.gpus,
        "nodes": json.dumps(list(event.nodes)),
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value,
        "at": event.at,
        "reason": event.reason,
    }

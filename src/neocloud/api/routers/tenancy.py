"""Tenants (operator), projects, tokens, quotas, the audit log, and who the caller is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from neocloud.api.deps import Caller, Control, Paging
from neocloud.control.app.views import AuditView, Page, ProjectView, QuotaView, TenantView, TokenView
from neocloud.control.domain.tenancy import Principal, Role
from neocloud.wire.audit import ACTION_PATTERN, AuditOut
from neocloud.wire.fields import IDENT_PATTERN, UtcDatetime
from neocloud.wire.paging import Page as PageOut
from neocloud.wire.tenancy import (
    ProjectCreate,
    ProjectOut,
    QuotaOut,
    QuotaSet,
    TenantCreate,
    TenantOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
    WhoAmI,
)

router = APIRouter(tags=["tenancy"])

TenantId = Path(pattern=IDENT_PATTERN)


@router.get("/whoami", response_model=WhoAmI, summary="The caller's token, role and tenant")
def whoami(caller: Caller) -> Principal:
    return caller


@router.post("/tenants", status_code=201, response_model=TenantOut, summary="Create a tenant (operator)")
def create_tenant(body: TenantCreate, cp: Control, caller: Caller) -> TenantView:
    return cp.tenancy.create_tenant(body.name, principal=caller)


@router.get("/tenants", response_model=PageOut[TenantOut], summary="List tenants (operators see all)")
def list_tenants(cp: Control, caller: Caller, paging: Paging) -> Page[TenantView]:
    return cp.tenancy.list_tenants(caller, paging)


@router.get("/tenants/{tenant_id}", response_model=TenantOut, summary="One tenant")
def get_tenant(cp: Control, caller: Caller, tenant_id: str = TenantId) -> TenantView:
    return cp.tenancy.get_tenant(caller, tenant_id)


@router.post(
    "/tenants/{tenant_id}/suspend",
    response_model=TenantOut,
    summary="Suspend a tenant (operator): its tokens still read, every write is 403; running allocations keep running",
)
def suspend_tenant(cp: Control, caller: Caller, tenant_id: str = TenantId) -> TenantView:
    return cp.tenancy.suspend_tenant(tenant_id, principal=caller)


@router.post(
    "/tenants/{tenant_id}/resume", response_model=TenantOut, summary="Resume a suspended tenant (operator)"
)
def resume_tenant(cp: Control, caller: Caller, tenant_id: str = TenantId) -> TenantView:
    return cp.tenancy.resume_tenant(tenant_id, principal=caller)


@router.post("/projects", status_code=201, response_model=ProjectOut, summary="Create a project")
def create_project(body: ProjectCreate, cp: Control, caller: Caller) -> ProjectView:
    return cp.tenancy.create_project(caller, body.tenant_id, body.name)


@router.get("/projects", response_model=PageOut[ProjectOut], summary="List projects")
def list_projects(cp: Control, caller: Caller, paging: Paging) -> Page[ProjectView]:
    return cp.tenancy.list_projects(caller, paging)


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenCreated,
    summary="Mint an API token (the secret is shown once)",
)
def create_token(body: TokenCreate, cp: Control, caller: Caller) -> TokenCreated:
    view, secret = cp.tenancy.create_token(
        body.tenant, Role(body.role), body.project, principal=caller, expires_at=body.expires_at
    )
    return TokenCreated(token=TokenOut.model_validate(view, from_attributes=True), secret=secret)


@router.get(
    "/tokens",
    response_model=PageOut[TokenOut],
    summary="List tokens (operators: all; tenant-admins: their tenant's); never the secrets",
)
def list_tokens(cp: Control, caller: Caller, paging: Paging) -> Page[TokenView]:
    return cp.tenancy.list_tokens(caller, paging)


@router.delete(
    "/tokens/{token_id}",
    response_model=TokenOut,
    summary="Revoke a token now (on every server); tenant-admins revoke their tenant's",
)
def revoke_token(cp: Control, caller: Caller, token_id: str = Path(pattern=IDENT_PATTERN)) -> TokenView:
    return cp.tenancy.revoke_token(caller, token_id)


@router.put("/quotas", response_model=QuotaOut, summary="Set a tenant's (or project's) GPU quota")
def set_quota(body: QuotaSet, cp: Control, caller: Caller) -> QuotaView:
    return cp.tenancy.set_quota(caller, body.tenant_id, body.model, body.gpus, body.project_id)


@router.get("/quotas", response_model=list[QuotaOut], summary="List quotas")
def list_quotas(cp: Control, caller: Caller) -> list[QuotaView]:
    return cp.tenancy.list_quotas(caller)


@router.get(
    "/audit",
    response_model=PageOut[AuditOut],
    tags=["audit"],
    summary="The audit log, oldest first (operators: all; tenant-admins: their tenant's)",
)
def list_audit(
    cp: Control,
    caller: Caller,
    paging: Paging,
    action: Annotated[
        str | None, Query(pattern=ACTION_PATTERN, description="only this action, e.g. token.revoke")
    ] = None,
    since: Annotated[UtcDatetime | None, Query(description="only entries at or after this instant")] = None,
) -> Page[AuditView]:
    return cp.audit.list_entries(caller, paging, action=action, since=since)

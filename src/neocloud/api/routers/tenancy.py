"""Tenants (operator), projects, tokens, quotas, and who the caller is."""

from __future__ import annotations

from fastapi import APIRouter, Path

from neocloud.api.deps import Caller, Control, Paging
from neocloud.control.app.views import Page, ProjectView, QuotaView, TenantView
from neocloud.control.domain.tenancy import Principal, Role
from neocloud.wire.fields import IDENT_PATTERN
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
    view, secret = cp.tenancy.create_token(body.tenant, Role(body.role), body.project, principal=caller)
    return TokenCreated(token=TokenOut.model_validate(view, from_attributes=True), secret=secret)


@router.put("/quotas", response_model=QuotaOut, summary="Set a tenant's (or project's) GPU quota")
def set_quota(body: QuotaSet, cp: Control, caller: Caller) -> QuotaView:
    return cp.tenancy.set_quota(caller, body.tenant_id, body.model, body.gpus, body.project_id)


@router.get("/quotas", response_model=list[QuotaOut], summary="List quotas")
def list_quotas(cp: Control, caller: Caller) -> list[QuotaView]:
    return cp.tenancy.list_quotas(caller)

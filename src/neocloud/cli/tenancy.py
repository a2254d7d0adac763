"""Server-side tenancy commands: tenants (create, list, suspend, resume), GPU quotas and API tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from neocloud.cli.operator import OPERATOR, DataDirOpt, DbUrlOpt, JsonOpt, _services, print_page, vars_of
from neocloud.cli.output import fail, print_json, print_table

tenants_app = typer.Typer(help="Tenants (organisations).", no_args_is_help=True)
tokens_app = typer.Typer(
    help="API tokens: create (server-side; the secret is shown once), list and revoke (over the API).",
    no_args_is_help=True,
)
quotas_app = typer.Typer(help="GPU quotas of tenants and projects (server-side).", no_args_is_help=True)


def tenants_create(
    name: str = typer.Argument(..., help="tenant name"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create a tenant (with a 'default' project)."""
    with _services(data_dir, database_url) as services:
        tenant = services.control.tenancy.create_tenant(name)
    if as_json:
        print_json(vars_of(tenant))
    else:
        print_table(
            "tenant", ("id", "name", "created"), [(tenant.id, tenant.name, tenant.created_at.isoformat())]
        )


def _tenant_row(tenant: Any) -> tuple[Any, ...]:
    state = f"suspended since {tenant.suspended_at.isoformat()}" if tenant.suspended_at else "active"
    return (tenant.id, tenant.name, tenant.created_at.isoformat(), state)


def tenants_list(
    limit: int = typer.Option(100, "--limit", min=1, max=500),
    cursor: str | None = typer.Option(None, "--cursor"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Every tenant, and whether it is suspended."""
    from neocloud.control.app.views import PageRequest

    with _services(data_dir, database_url) as services:
        page = services.control.tenancy.list_tenants(OPERATOR, PageRequest(limit, cursor))
    print_page("tenants", ("id", "name", "created", "state"), page, _tenant_row, as_json)


def _suspension(
    name: str, suspend: bool, data_dir: Path | None, database_url: str | None, as_json: bool
) -> None:
    with _services(data_dir, database_url) as services:
        tenancy = services.control.tenancy
        tenant = tenancy.suspend_tenant(name) if suspend else tenancy.resume_tenant(name)
    if as_json:
        print_json(vars_of(tenant))
    else:
        print_table("tenant", ("id", "name", "created", "state"), [_tenant_row(tenant)])


def tenants_suspend(
    name: str = typer.Argument(..., help="tenant name or id"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Suspend a tenant: its tokens still read (bills included), every write is refused (403). Its
    running allocations keep running; stop them separately if they must end."""
    _suspension(name, True, data_dir, database_url, as_json)


def tenants_resume(
    name: str = typer.Argument(..., help="tenant name or id"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Resume a suspended tenant: its tokens may write again."""
    _suspension(name, False, data_dir, database_url, as_json)


def quotas_set(
    tenant: str = typer.Option(..., "--tenant", help="tenant name or id"),
    model: str = typer.Option(..., "--model", help="GPU model, e.g. H100"),
    gpus: int = typer.Option(..., "--gpus", min=0, max=1_000_000, help="GPUs it may hold at once"),
    project: str | None = typer.Option(
        None, "--project", help="a project's quota (name or id) instead of the tenant's"
    ),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Set a tenant's (or one of its projects') quota of one GPU model."""
    with _services(data_dir, database_url) as services:
        quota = services.control.tenancy.set_quota(None, tenant, model, gpus, project)
    if as_json:
        print_json(vars_of(quota))
    else:
        print_table(
            "quota",
            ("tenant", "project", "model", "GPUs"),
            [(quota.tenant_id, quota.project_id or "-", quota.model, quota.gpus)],
        )


def quotas_show(
    tenant: str | None = typer.Option(None, "--tenant", help="only this tenant (name or id)"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Quotas of every tenant (or one): the most GPUs of a model it may hold at once."""
    with _services(data_dir, database_url) as services:
        quotas = services.control.tenancy.list_quotas(OPERATOR, tenant)
        names = {t.id: t.name for t in services.control.tenancy.list_tenants(OPERATOR).items}
    if as_json:
        print_json([{**vars_of(q), "tenant": names.get(q.tenant_id)} for q in quotas])
        return
    print_table(
        "quotas",
        ("tenant", "project", "model", "GPUs"),
        [(names.get(q.tenant_id, q.tenant_id), q.project_id or "-", q.model, q.gpus) for q in quotas],
    )


def tokens_create(
    role: str = typer.Option(..., "--role", help="operator, tenant-admin, tenant-member or viewer"),
    tenant: str | None = typer.Option(
        None, "--tenant", help="tenant name (none for operator and fleet viewer tokens)"
    ),
    project: str | None = typer.Option(None, "--project", help="limit the token to one project"),
    expires_in: str | None = typer.Option(
        None, "--expires-in", help="valid for this long, e.g. 30d, 12h, 2w (default: no expiry)"
    ),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create an API token. The secret is printed once; only its hash is stored."""
    from neocloud.cli.admin import parse_duration

    try:
        lifetime = parse_duration(expires_in) if expires_in is not None else None
    except ValueError as err:
        raise fail(f"--expires-in: {err}") from None
    with _services(data_dir, database_url) as services:
        tenancy = services.control.tenancy
        expires_at = tenancy.now() + lifetime if lifetime is not None else None
        view, secret = tenancy.create_token(tenant, role, project, expires_at=expires_at)
    if as_json:
        print_json({"token": secret, **vars_of(view), "secret": secret})
    else:
        print_table(
            "token",
            ("id", "role", "tenant", "project", "expires"),
            [
                (
                    view.id,
                    view.role.value,
                    view.tenant_id or "-",
                    view.project_id or "-",
                    view.expires_at.isoformat() if view.expires_at else "never",
                )
            ],
        )
        typer.echo(f"secret (shown once, store it now): {secret}")


def register(app: typer.Typer) -> None:
    from neocloud.cli import admin

    tenants_app.command("create")(tenants_create)
    tenants_app.command("list")(tenants_list)
    tenants_app.command("suspend")(tenants_suspend)
    tenants_app.command("resume")(tenants_resume)
    tokens_app.command("create")(tokens_create)
    quotas_app.command("set")(quotas_set)
    quotas_app.command("show")(quotas_show)
    admin.register(tokens_app, app)
    app.add_typer(tenants_app, name="tenants")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(quotas_app, name="quotas")

"""The `neocloud` command. Sub-command groups live in their own modules and are registered here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="neocloud",
    help="neocloud: run a GPU cloud — fleet, placement, capacity products, billing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    url: str | None = typer.Option(None, "--url", envvar="NEOCLOUD_URL", help="API URL for tenant commands"),
    token: str | None = typer.Option(None, "--token", envvar="NEOCLOUD_TOKEN", help="API token (nc_…)"),
) -> None:
    """Global options: where the tenant commands (reserve, reservations, instances) find the API."""
    from neocloud.cli.credentials import Endpoint

    ctx.obj = Endpoint(url, token)


_registered: list[bool] = []


def _register() -> None:
    """Attach every command group once (tests call it too)."""
    if _registered:
        return
    _registered.append(True)
    from neocloud.cli import bench, billing, fleet, nodes, operator, server, sla, slurm, tenancy, tenant
    from neocloud.cli import plan as plan_cli
    from neocloud.cli import sim as sim_cli

    app.add_typer(fleet.app, name="fleet")
    app.add_typer(bench.app, name="bench")
    app.add_typer(slurm.app, name="slurm")
    app.add_typer(sim_cli.app, name="sim")
    app.add_typer(plan_cli.app, name="plan")
    tenant.register(app)
    server.register(app)
    operator.register(app)
    tenancy.register(app)
    billing.register(app)
    nodes.register(operator.nodes_app)
    app.add_typer(sla.app, name="sla")


def main() -> None:
    _register()
    app()

"""`neocloud slurm …`: the Slurm side of the cloud. `config` prints the Slurm configuration neocloud
generates from a fleet (server-side, through bootstrap); `users add|list|remove` declare a tenant's Slurm
users (tenant-admin, over the API)."""

from __future__ import annotations

import time

import typer

from neocloud.cli.fleet import PARAM_HELP, parse_params, resolve
from neocloud.cli.output import err_console, fail, print_json, print_table
from neocloud.cli.tenant import _api
from neocloud.client.documents import to_json
from neocloud.client.slurm import SlurmClient
from neocloud.kernel.errors import DomainError
from neocloud.wire.slurm import JobUsageOut, SlurmUsersOut

app = typer.Typer(help="Slurm: generated configuration and tenants' Slurm users.", no_args_is_help=True)
users_app = typer.Typer(help="A tenant's Slurm users (tenant-admin).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command("config")
def config(
    preset: str | None = typer.Option(None, "--preset", help="a fleet preset (neocloud fleet presets)"),
    fleet_file: str | None = typer.Option(None, "--fleet", help="a fleet description file (YAML)"),
    param: list[str] = typer.Option([], "--param", "-p", help=PARAM_HELP),
    block: bool = typer.Option(False, "--block", help="topology.conf in block form (Slurm 23.11-24.11)"),
    topology_yaml: bool = typer.Option(False, "--topology-yaml", help="topology.yaml (Slurm 25.05+)"),
    cluster: str | None = typer.Option(None, "--cluster", help="ClusterName (default: the fleet's name)"),
    slurm_conf_only: bool = typer.Option(False, "--slurm-conf-only", help="only the slurm.conf lines"),
    gres_conf: bool = typer.Option(False, "--gres-conf", help="print gres.conf instead"),
    topology_only: bool = typer.Option(False, "--topology-only", help="only the topology file"),
) -> None:
    """slurm.conf node lines (then topology.conf, tree form for 22.05) of a fleet; one Slurm cluster per
    hall when the fleet has more nodes than one controller holds (65,536)."""
    from neocloud.bootstrap import slurm_config

    if (preset is None) == (fleet_file is None):
        raise fail("give exactly one of --preset NAME or --fleet FILE")
    if block and topology_yaml:
        raise fail("--block and --topology-yaml exclude each other")
    t0 = time.perf_counter()
    try:
        fleet = resolve(preset or fleet_file or "", parse_params(param))
        form = "yaml" if topology_yaml else "block" if block else "tree"
        part = "slurm" if slurm_conf_only else "gres" if gres_conf else "topology" if topology_only else "all"
        text = slurm_config(fleet, form, cluster=cluster, part=part)
    except (DomainError, ValueError) as err:
        raise fail(getattr(err, "message", str(err))) from None
    typer.echo(text, nl=False)
    err_console.print(f"{len(fleet.nodes)} nodes in {time.perf_counter() - t0:.2f}s", markup=False)


TenantOpt = typer.Option(None, "--tenant", help="operators: which tenant (id)")
JsonOpt = typer.Option(False, "--json", help="print one JSON document")


def _print_users(doc: SlurmUsersOut, as_json: bool) -> None:
    if as_json:
        print_json(to_json(doc))
        return
    print_table(f"Slurm users of {doc.tenant}", ("user",), [(u,) for u in doc.users])


@users_app.command("list")
def users_list(ctx: typer.Context, tenant: str | None = TenantOpt, as_json: bool = JsonOpt) -> None:
    """The Unix users that may run jobs under your tenant's Slurm accounts."""
    with _api(ctx) as client:
        doc = SlurmClient(client).users(tenant=tenant)
    _print_users(doc, as_json)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    user: str = typer.Argument(..., help="a Unix login name on the cluster"),
    tenant: str | None = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Make a Unix user a Slurm user of your tenant's accounts (tenant-admin)."""
    with _api(ctx) as client:
        doc = SlurmClient(client).add_user(user, tenant=tenant)
    _print_users(doc, as_json)


@users_app.command("remove")
def users_remove(
    ctx: typer.Context,
    user: str = typer.Argument(...),
    tenant: str | None = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Remove a Slurm user from your tenant's accounts (tenant-admin); their running jobs are not touched."""
    with _api(ctx) as client:
        doc = SlurmClient(client).remove_user(user, tenant=tenant)
    _print_users(doc, as_json)


def job_usage_table(doc: JobUsageOut) -> None:
    print_table(
        f"usage by job {doc.tenant} {doc.period}",
        (
            "job",
            "user",
            "allocation",
            "nodes",
            "GPUs",
            "start (UTC)",
            "end (UTC)",
            "state",
            "GPU-seconds",
            "outside",
        ),
        [
            (
                j.job_id,
                j.user,
                j.allocation_id or "-",
                ",".join(j.nodes),
                j.gpus,
                j.start.strftime("%Y-%m-%d %H:%M:%S"),
                j.end.strftime("%Y-%m-%d %H:%M:%S") if j.end else "running",
                j.state,
                j.gpu_seconds,
                j.outside_paid_window_seconds,
            )
            for j in doc.items
        ],
        caption=f"total {doc.total_gpu_seconds} GPU-seconds",
    )

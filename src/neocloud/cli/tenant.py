"""Tenant-side commands: reserve, reservations, instances, login. They talk HTTP through neocloud.client only.

Every command prints a Rich table, or exactly one JSON document with --json; an API error exits 1 with
the API's message on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import typer

from neocloud.cli import credentials
from neocloud.cli.dates import INSTANT_HELP, instant
from neocloud.cli.output import console, fail, print_json, print_table
from neocloud.client import ApiError, NeocloudClient
from neocloud.client.documents import to_json
from neocloud.wire.capacity import InstanceOut, ReservationOut
from neocloud.wire.paging import Page

reservations_app = typer.Typer(help="Your reservations: list, show, cancel, extend.", no_args_is_help=True)
instances_app = typer.Typer(
    help="Your instances (on-demand and spot): create, list, show, stop.", no_args_is_help=True
)

JsonOpt = typer.Option(False, "--json", help="print one JSON document")
LimitOpt = typer.Option(50, "--limit", min=1, max=500, help="items per page")
CursorOpt = typer.Option(None, "--cursor", help="next_cursor of the previous page")


def _endpoint(ctx: typer.Context) -> credentials.Endpoint:
    given = ctx.find_root().obj
    return credentials.resolve(given if isinstance(given, credentials.Endpoint) else credentials.Endpoint())


@contextmanager
def _api(ctx: typer.Context) -> Iterator[NeocloudClient]:
    """A client for the resolved endpoint; API errors become a red message and exit code 1."""
    endpoint = _endpoint(ctx)
    if not endpoint.token:
        raise fail("no API token: pass --token, set NEOCLOUD_TOKEN, or run `neocloud login`")
    assert endpoint.url is not None
    try:
        with NeocloudClient(endpoint.url, endpoint.token) as client:
            yield client
    except ApiError as exc:
        where = f"{exc.status} {exc.code}" if exc.status else exc.code
        raise fail(f"{exc.message} ({where})") from None


def _when(value: datetime | None) -> str:
    return value.strftime("%m-%d %H:%M") if value else "-"


def _access(api: NeocloudClient, allocation_id: str) -> dict[str, Any] | None:
    """How to run in the allocation on the cluster; None when the server drives no cluster (the fake)."""
    from neocloud.client.slurm import SlurmClient

    try:
        return dict(to_json(SlurmClient(api).access(allocation_id)))
    except ApiError as err:
        if err.status == 404:  # the allocation was just read: the server drives no Slurm cluster
            return None
        raise


def _print_access(access: dict[str, Any] | None) -> None:
    if access:
        print_table(
            "Run in it (Slurm)",
            ("reservation", "account", "partition"),
            [(access["reservation"], access["account"], access["partition"])],
        )
        console.print(f"  {access['sbatch']}\n  {access['srun']}", markup=False, highlight=False)


def _show(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    if as_json:
        print_json(to_json(data))
    else:
        render()


RESERVATION_COLUMNS = ("id", "state", "GPUs", "window (UTC)", "price", "nodes")


def _window(start: datetime, end: datetime) -> str:
    same_day = start.date() == end.date()
    return f"{start:%m-%d %H:%M} → {end:%H:%M}" if same_day else f"{start:%m-%d %H:%M} → {end:%m-%d %H:%M}"


def _reservation_row(r: ReservationOut) -> tuple[Any, ...]:
    shape = "" if r.shape == "any" else f" {r.shape}"
    return (
        r.id,
        r.state,
        f"{r.gpus} {r.model}{shape}",
        _window(r.start, r.end),
        f"{r.price_total} {r.currency}",
        len(r.nodes),
    )


def _page_caption(page: Page[Any]) -> str:
    more = f"; next page: --cursor {page.next_cursor}" if page.next_cursor else ""
    return f"{len(page.items)} of {page.total}{more}"


INSTANCE_COLUMNS = ("id", "state", "GPUs", "price/h", "started (UTC)", "notice until")


def _instance_row(i: InstanceOut) -> tuple[Any, ...]:
    what = f"{i.gpus} {i.model} on {len(i.nodes) or i.nodes_requested} node(s){' spot' if i.spot else ''}"
    return (
        i.id,
        i.state,
        what,
        f"{i.price_per_hour} {i.currency}",
        _when(i.started_at),
        _when(i.notice_until),
    )


# ---- reserve --------------------------------------------------------------------------------------------


def reserve(
    ctx: typer.Context,
    model: str = typer.Option(..., "--model", help="GPU model, e.g. H100, GB200"),
    gpus: int = typer.Option(..., "--gpus", min=1, help="how many GPUs"),
    hours: int = typer.Option(..., "--hours", min=1, help="for how long"),
    start: str | None = typer.Option(None, "--start", help=f"when it starts: {INSTANT_HELP}; default now"),
    shape: str = typer.Option("any", "--shape", help="any, whole-nodes, whole-nvl72, one-fabric"),
    project: str | None = typer.Option(None, "--project", help="project id or name"),
    quote_only: bool = typer.Option(False, "--quote", help="only price it and find the earliest start"),
    key: str | None = typer.Option(
        None, "--idempotency-key", help="retrying with the same key never duplicates"
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Reserve GPUs for a time window (or, with --quote, price it)."""
    when = instant(start, "--start")
    with _api(ctx) as api:
        if quote_only:
            q = api.quote(model, gpus, hours, start=when, shape=shape, project=project)
            _show(
                q,
                as_json,
                lambda: print_table(
                    "Quote",
                    ("model", "gpus", "shape", "earliest start", "end", "price", "feasible", "why"),
                    [
                        (
                            q.model,
                            q.gpus,
                            q.shape,
                            _when(q.start),
                            _when(q.end),
                            f"{q.price_total} {q.currency}",
                            "yes" if q.feasible else "no",
                            q.message,
                        )
                    ],
                ),
            )
            return
        r = api.reserve(model, gpus, hours, start=when, shape=shape, project=project, idempotency_key=key)
    _show(r, as_json, lambda: print_table("Reservation", RESERVATION_COLUMNS, [_reservation_row(r)]))


# ---- reservations ---------------------------------------------------------------------------------------


@reservations_app.command("list")
def reservations_list(
    ctx: typer.Context,
    state: str | None = typer.Option(None, "--state", help="only this state, e.g. scheduled, active"),
    limit: int = LimitOpt,
    cursor: str | None = CursorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List your reservations."""
    with _api(ctx) as api:
        page = api.list_reservations(limit=limit, cursor=cursor, state=state)
    _show(
        page,
        as_json,
        lambda: print_table(
            "Reservations",
            RESERVATION_COLUMNS,
            [_reservation_row(r) for r in page.items],
            caption=_page_caption(page),
        ),
    )


@reservations_app.command("show")
def reservations_show(
    ctx: typer.Context, reservation_id: str = typer.Argument(..., metavar="ID"), as_json: bool = JsonOpt
) -> None:
    """One reservation, with its lifecycle events."""
    with _api(ctx) as api:
        r = api.get_reservation(reservation_id)
        events = api.list_events(r.id)
        access = _access(api, r.id)
    if as_json:
        print_json({**to_json(r), "events": to_json(events), **({"access": access} if access else {})})
        return
    print_table("Reservation", RESERVATION_COLUMNS, [_reservation_row(r)])
    _print_access(access)
    print_table(
        "Events",
        ("at (UTC)", "from", "to", "reason"),
        [(_when(e.at), e.from_state or "-", e.to_state, e.reason) for e in events],
    )


@reservations_app.command("cancel")
def reservations_cancel(
    ctx: typer.Context, reservation_id: str = typer.Argument(..., metavar="ID"), as_json: bool = JsonOpt
) -> None:
    """Cancel a reservation."""
    with _api(ctx) as api:
        r = api.cancel_reservation(reservation_id)
    _show(r, as_json, lambda: console.print(f"[green]cancelled[/] {r.id} (state {r.state})"))


@reservations_app.command("extend")
def reservations_extend(
    ctx: typer.Context,
    reservation_id: str = typer.Argument(..., metavar="ID"),
    hours: int = typer.Option(..., "--hours", min=1),
    as_json: bool = JsonOpt,
) -> None:
    """Extend a reservation by some hours."""
    with _api(ctx) as api:
        r = api.extend_reservation(reservation_id, hours)
    _show(r, as_json, lambda: print_table("Reservation", RESERVATION_COLUMNS, [_reservation_row(r)]))


# ---- instances ------------------------------------------------------------------------------------------


@instances_app.command("create")
def instances_create(
    ctx: typer.Context,
    model: str = typer.Option(..., "--model", help="GPU model, e.g. H100, GB200"),
    nodes: int = typer.Option(1, "--nodes", min=1, help="whole nodes"),
    spot: bool = typer.Option(False, "--spot", help="cheaper, preemptible"),
    project: str | None = typer.Option(None, "--project", help="project id or name"),
    key: str | None = typer.Option(
        None, "--idempotency-key", help="retrying with the same key never duplicates"
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Start whole nodes now, on demand (or --spot)."""
    with _api(ctx) as api:
        i = api.create_instance(model, nodes, spot=spot, project=project, idempotency_key=key)
    _show(i, as_json, lambda: print_table("Instance", INSTANCE_COLUMNS, [_instance_row(i)]))


@instances_app.command("list")
def instances_list(
    ctx: typer.Context, limit: int = LimitOpt, cursor: str | None = CursorOpt, as_json: bool = JsonOpt
) -> None:
    """List your instances."""
    with _api(ctx) as api:
        page = api.list_instances(limit=limit, cursor=cursor)
    _show(
        page,
        as_json,
        lambda: print_table(
            "Instances", INSTANCE_COLUMNS, [_instance_row(i) for i in page.items], caption=_page_caption(page)
        ),
    )


@instances_app.command("show")
def instances_show(
    ctx: typer.Context, instance_id: str = typer.Argument(..., metavar="ID"), as_json: bool = JsonOpt
) -> None:
    """One instance."""
    with _api(ctx) as api:
        i = api.get_instance(instance_id)
        access = _access(api, i.id)
    if as_json:
        print_json({**to_json(i), **({"access": access} if access else {})})
        return
    print_table("Instance", INSTANCE_COLUMNS, [_instance_row(i)])
    _print_access(access)


@instances_app.command("stop")
def instances_stop(
    ctx: typer.Context, instance_id: str = typer.Argument(..., metavar="ID"), as_json: bool = JsonOpt
) -> None:
    """Stop an instance."""
    with _api(ctx) as api:
        i = api.stop_instance(instance_id)
    _show(i, as_json, lambda: console.print(f"[green]stopping[/] {i.id} (state {i.state})"))


# ---- login ----------------------------------------------------------------------------------------------


def login(
    ctx: typer.Context,
    url: str | None = typer.Option(None, "--url", help="API URL (default: the global --url)"),
    token: str | None = typer.Option(None, "--token", help="API token (default: the global --token)"),
    as_json: bool = JsonOpt,
) -> None:
    """Check a token against the API and store URL and token in ~/.config/neocloud/credentials.json (0600)."""
    given = _endpoint(ctx)
    endpoint = credentials.Endpoint(url or given.url, token or given.token)
    if not endpoint.token:
        raise fail("no API token: pass --token (or NEOCLOUD_TOKEN)")
    assert endpoint.url is not None
    try:
        with NeocloudClient(endpoint.url, endpoint.token) as client:
            who = client.whoami()
    except ApiError as exc:
        raise fail(f"login failed: {exc.message} ({exc.status} {exc.code})") from None
    path = credentials.save(endpoint)
    result = {"url": endpoint.url, "role": who.role, "tenant_id": who.tenant_id, "credentials": str(path)}
    _show(
        result,
        as_json,
        lambda: console.print(
            f"[green]logged in[/] to {endpoint.url} as {who.role}"
            + (f" of tenant {who.tenant_id}" if who.tenant_id else "")
            + f"; saved to {path}"
        ),
    )


def register(app: typer.Typer) -> None:
    app.command("reserve")(reserve)
    app.command("login")(login)
    app.add_typer(reservations_app, name="reservations")
    app.add_typer(instances_app, name="instances")

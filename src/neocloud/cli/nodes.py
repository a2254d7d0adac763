"""`neocloud nodes cordon|uncordon|drain|repair|return|retire|maintenance|health|events`: the node
lifecycle, server-side like `nodes list` (they call bootstrap where the database is; whoever can reach
it is the operator). Every command needs --reason: it is kept in the node's events."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

from neocloud.cli.dates import instant
from neocloud.cli.operator import OPERATOR, DataDirOpt, DbUrlOpt, JsonOpt, _services
from neocloud.cli.output import fail, print_json, print_table
from neocloud.health.domain.lifecycle import DrainMode, NodeHealth, NodeState
from neocloud.kernel.health import RecommendedAction
from neocloud.kernel.ids import NodeId

ReasonOpt = typer.Option(..., "--reason", help="why (kept in the node's events)")


def _show(h: NodeHealth, as_json: bool) -> None:
    if as_json:
        print_json(_plain(asdict(h)))
        return
    until = f" until {h.until.isoformat()}" if h.until else ""
    action = f" ({h.action.value})" if h.action else ""
    spare = " [spare]" if h.spare else ""
    typer.echo(f"{h.node}: {h.state.value}{action}{spare}{until} — {h.reason}")


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in d.items()}


def _run(data_dir: Path | None, database_url: str | None, as_json: bool, do: Any) -> None:
    with _services(data_dir, database_url) as services:
        if services.health is None:
            raise fail("the health context is not configured")
        result = do(services.health)
    if isinstance(result, NodeHealth):
        _show(result, as_json)


def cordon(
    node: str,
    reason: str = ReasonOpt,
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """No new work on NODE; the work running there stays."""
    _run(data_dir, database_url, as_json, lambda h: h.cordon(OPERATOR, NodeId(node), reason))


def uncordon(
    node: str,
    reason: str = ReasonOpt,
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """NODE takes new work again."""
    _run(data_dir, database_url, as_json, lambda h: h.uncordon(OPERATOR, NodeId(node), reason))


def drain(
    node: str,
    reason: str = ReasonOpt,
    mode: str = typer.Option("now", "--mode", help="now (to spares) or allow-completion"),
    timeout_minutes: int = typer.Option(60, "--timeout-minutes", min=0, max=7 * 24 * 60),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Move NODE's work off it (to spares of its domain), then take it out of service for triage."""
    try:
        drain_mode = DrainMode(mode)
    except ValueError:
        raise fail("--mode is now or allow-completion") from None
    _run(
        data_dir,
        database_url,
        as_json,
        lambda h: h.drain(OPERATOR, NodeId(node), reason, drain_mode, timedelta(minutes=timeout_minutes)),
    )


def repair(
    node: str,
    reason: str = ReasonOpt,
    action: str = typer.Option(..., "--action", help="component-reset, reboot, replace or contact-support"),
    until: str | None = typer.Option(None, "--until", help="when the repair ends by itself (e.g. +4h)"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Start repairing NODE (out of service); `nodes return` ends the repair unless --until does."""
    try:
        act = RecommendedAction(action)
    except ValueError:
        raise fail("--action is component-reset, reboot, replace or contact-support") from None
    end = instant(until, "--until")
    _run(data_dir, database_url, as_json, lambda h: h.repair(OPERATOR, NodeId(node), act, reason, end))


def return_(
    node: str,
    reason: str = ReasonOpt,
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Next step back to service: repair → burn-in → in service."""
    _run(data_dir, database_url, as_json, lambda h: h.return_(OPERATOR, NodeId(node), reason))


def retire(
    node: str,
    reason: str = ReasonOpt,
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Take NODE out for good (a lemon)."""
    _run(data_dir, database_url, as_json, lambda h: h.retire(OPERATOR, NodeId(node), reason))


def maintenance(
    node: str,
    start: str = typer.Option(..., "--from", help="start (ISO 8601 or +2d)"),
    end: str = typer.Option(..., "--to", help="end (ISO 8601 or +3d)"),
    reason: str = typer.Option("planned maintenance", "--reason"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Plan maintenance of NODE: admission sells none of it over the window (refused if booked)."""
    lo, hi = instant(start, "--from"), instant(end, "--to")
    assert lo is not None and hi is not None
    with _services(data_dir, database_url) as services:
        assert services.health is not None
        window = services.health.plan_maintenance(OPERATOR, NodeId(node), lo, hi, reason)
    if as_json:
        print_json(asdict(window))
    else:
        typer.echo(f"{window.id}: {window.node_id} {window.start.isoformat()} → {window.end.isoformat()}")


def health(
    state: str | None = typer.Option(None, "--state", help="only nodes in this state"),
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Every node's lifecycle state."""
    try:
        wanted = NodeState(state) if state else None
    except ValueError:
        raise fail(f"--state is one of {', '.join(s.value for s in NodeState)}") from None
    with _services(data_dir, database_url) as services:
        assert services.health is not None
        found = services.health.nodes(OPERATOR, wanted)
    if as_json:
        print_json([_plain(asdict(h)) for h in found])
        return
    rows = [
        (
            h.node,
            h.state.value,
            "yes" if h.spare else "",
            h.action.value if h.action else "",
            h.since.isoformat(),
            h.reason,
        )
        for h in found
    ]
    print_table("node health", ("node", "state", "spare", "action", "since", "reason"), rows)


def events(
    node: str,
    data_dir: Path | None = DataDirOpt,
    database_url: str | None = DbUrlOpt,
    as_json: bool = JsonOpt,
) -> None:
    """NODE's lifecycle events, oldest first."""
    with _services(data_dir, database_url) as services:
        assert services.health is not None
        found = services.health.events(OPERATOR, NodeId(node))
    if as_json:
        print_json([_plain(asdict(e)) for e in found])
        return
    rows = [
        (e.at.isoformat(), e.from_state.value if e.from_state else "", e.to_state.value, e.actor, e.reason)
        for e in found
    ]
    print_table(f"events of {node}", ("at", "from", "to", "by", "reason"), rows)


def register(nodes_app: typer.Typer) -> None:
    for name, fn in (
        ("cordon", cordon),
        ("uncordon", uncordon),
        ("drain", drain),
        ("repair", repair),
        ("return", return_),
        ("retire", retire),
        ("maintenance", maintenance),
        ("health", health),
        ("events", events),
    ):
        nodes_app.command(name)(fn)

"""Administration over HTTP: `tokens list`, `tokens revoke ID` and `audit`. They talk to the API through
neocloud.client with the caller's token, so the API's rules apply: operators see every tenant's tokens
and entries, a tenant-admin its own tenant's. (`tokens create`, `tenants …` and `quotas …` run
server-side, in cli/operator.py.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import typer

from neocloud.cli.output import print_table
from neocloud.cli.tenant import CursorOpt, JsonOpt, LimitOpt, _api, _page_caption, _show

_DURATION = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'30d', '12h', '90m', '2w', '45s' → a timedelta; ValueError otherwise."""
    found = _DURATION.match(text.lower())
    if found is None or int(found.group(1)) == 0:
        raise ValueError(
            f"{text!r} is not a duration: use a positive number and a unit s, m, h, d or w (e.g. 30d)"
        )
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def tokens_list(
    ctx: typer.Context, limit: int = LimitOpt, cursor: str | None = CursorOpt, as_json: bool = JsonOpt
) -> None:
    """List API tokens (operators: every tenant's; tenant-admins: their tenant's). Secrets are never
    shown, only the prefix that names them."""
    with _api(ctx) as api:
        page = api.list_tokens(limit=limit, cursor=cursor)
    rows = [
        (
            t.id,
            t.prefix + "…",
            t.role,
            t.tenant_id or "-",
            t.project_id or "-",
            _when(t.created_at),
            _when(t.expires_at),
            "revoked " + _when(t.revoked_at) if t.revoked_at else "live",
        )
        for t in page.items
    ]
    _show(
        page,
        as_json,
        lambda: print_table(
            "Tokens",
            ("id", "prefix", "role", "tenant", "project", "created (UTC)", "expires (UTC)", "state"),
            rows,
            caption=_page_caption(page),
        ),
    )


def tokens_revoke(
    ctx: typer.Context, token_id: str = typer.Argument(..., metavar="ID"), as_json: bool = JsonOpt
) -> None:
    """Revoke a token now: its next request fails on every server (tenant-admins: their tenant's tokens)."""
    with _api(ctx) as api:
        token = api.revoke_token(token_id)
    _show(token, as_json, lambda: typer.echo(f"revoked {token.id} ({token.prefix}…, {token.role})"))


def audit(
    ctx: typer.Context,
    action: str | None = typer.Option(None, "--action", help="only this action, e.g. token.revoke"),
    since: str | None = typer.Option(
        None, "--since", help="ISO 8601 instant (UTC when no offset), or a duration ago: 7d"
    ),
    limit: int = LimitOpt,
    cursor: str | None = CursorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The audit log, oldest first: who created and revoked tokens, created, suspended and resumed
    tenants, set quotas, created projects, cancelled or extended reservations, stopped instances and
    changed prices (operators: everything; tenant-admins: their tenant's)."""
    from neocloud.cli.output import fail

    when: datetime | None = None
    if since is not None:
        try:
            when = datetime.now(UTC) - parse_duration(since)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(since)
            except ValueError:
                raise fail(
                    f"--since {since!r} is neither an ISO 8601 instant nor a duration such as 7d"
                ) from None
            when = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    with _api(ctx) as api:
        page = api.audit(action=action, since=when, limit=limit, cursor=cursor)
    rows = [
        (
            e.id,
            _when(e.at),
            e.actor,
            e.action,
            e.target,
            e.tenant_id or "-",
            ", ".join(f"{k}={v}" for k, v in sorted(e.details.items()) if v is not None),
        )
        for e in page.items
    ]
    _show(
        page,
        as_json,
        lambda: print_table(
            "Audit log",
            ("#", "at (UTC)", "actor", "action", "target", "tenant", "details"),
            rows,
            caption=_page_caption(page),
        ),
    )


def register(tokens_app: typer.Typer, app: typer.Typer) -> None:
    tokens_app.command("list")(tokens_list)
    tokens_app.command("revoke")(tokens_revoke)
    app.command("audit")(audit)

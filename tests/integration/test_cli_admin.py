"""Tenancy administration from the CLI: the server-side commands (tenants list|suspend|resume, quotas
set|show, tokens create --expires-in) against a real SQLite file, and the HTTP ones (tokens list|revoke,
audit) against a live server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from neocloud.cli import main as cli_main
from neocloud.cli.admin import parse_duration
from neocloud.control.domain.tenancy import Role
from tests.integration.api_world import ApiWorld, LiveServer

# ---- server-side ----------------------------------------------------------------------------------


@pytest.fixture
def op(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEOCLOUD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NEOCLOUD_DATABASE_URL", raising=False)
    cli_main._register()
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(cli_main.app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke("db", "upgrade")
    invoke("tenants", "create", "acme")
    return invoke


def test_quotas_set_and_show_by_tenant_name(op) -> None:  # type: ignore[no-untyped-def]
    op("quotas", "set", "--tenant", "acme", "--model", "h100", "--gpus", "64")
    op("quotas", "set", "--tenant", "acme", "--model", "H100", "--gpus", "16", "--project", "default")
    shown = json.loads(op("quotas", "show", "--tenant", "acme", "--json").stdout)
    h100 = sorted((q["project_id"] is not None, q["gpus"]) for q in shown if q["model"] == "H100")
    assert h100 == [(False, 64), (True, 16)] and {q["tenant"] for q in shown} == {"acme"}
    assert next(q["gpus"] for q in shown if q["model"] == "GB200") == 512  # the default quota
    assert "H100" in op("quotas", "show").stdout


def test_quotas_set_for_a_missing_tenant_exits_1(op) -> None:  # type: ignore[no-untyped-def]
    result = op("quotas", "set", "--tenant", "nobody", "--model", "H100", "--gpus", "8", ok=False)
    assert result.exit_code == 1 and "not found" in result.output


def test_tenants_suspend_resume_and_list(op) -> None:  # type: ignore[no-untyped-def]
    suspended = json.loads(op("tenants", "suspend", "acme", "--json").stdout)
    assert suspended["suspended_at"] is not None
    listed = json.loads(op("tenants", "list", "--json").stdout)
    assert [(t["name"], t["suspended_at"] is not None) for t in listed["items"]] == [("acme", True)]
    assert json.loads(op("tenants", "resume", "acme", "--json").stdout)["suspended_at"] is None
    assert "active" in op("tenants", "list").stdout


def test_tokens_create_with_an_expiry(op) -> None:  # type: ignore[no-untyped-def]
    token = json.loads(
        op("tokens", "create", "--tenant", "acme", "--role", "viewer", "--expires-in", "30d", "--json").stdout
    )
    assert token["expires_at"] is not None
    bad = op("tokens", "create", "--tenant", "acme", "--role", "viewer", "--expires-in", "soon", ok=False)
    assert bad.exit_code == 1 and "--expires-in" in bad.output


def test_durations() -> None:
    assert parse_duration("30d") == timedelta(days=30) and parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("2w") == timedelta(weeks=2)
    for bad in ("0d", "d", "30", "1y", "-1d"):
        with pytest.raises(ValueError):
            parse_duration(bad)


# ---- over HTTP ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ApiWorld, str]]:
    cli_main._register()
    world = ApiWorld.build()
    with LiveServer(world.app) as server:
        yield world, server.url


@pytest.fixture
def run(served, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    _, url = served
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("NEOCLOUD_URL", raising=False)
    monkeypatch.delenv("NEOCLOUD_TOKEN", raising=False)

    def invoke(*args: str, token: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli_main.app, ["--url", url, "--token", token, *args])

    return invoke


def test_tokens_list_as_operator_shows_every_tenant_and_no_secret(run, served) -> None:  # type: ignore[no-untyped-def]
    world, _ = served
    result = run("tokens", "list", "--json", "--limit", "500", token=world.operator)
    assert result.exit_code == 0, result.output
    page = json.loads(result.stdout)
    assert {world.tenant_ids["alice"], world.tenant_ids["bob"]} <= {t["tenant_id"] for t in page["items"]}
    assert world.tokens["alice"] not in result.stdout
    table = run("tokens", "list", token=world.operator)
    assert table.exit_code == 0 and "Tokens" in table.stdout and "3 of 3" in table.stdout


def test_tokens_revoke_by_a_tenant_admin(run, served) -> None:  # type: ignore[no-untyped-def]
    world, _ = served
    secret = world.token_for("alice", Role.TENANT_MEMBER)
    token_id = world.control.tenancy.authenticate(secret).token_id
    result = run("tokens", "revoke", token_id, token=world.tokens["alice"])
    assert result.exit_code == 0 and "revoked" in result.stdout
    denied = run("reservations", "list", token=secret)
    assert denied.exit_code == 1 and "401" in denied.stderr
    theirs = run("tokens", "revoke", token_id, token=world.tokens["bob"])
    assert theirs.exit_code == 1 and "404" in theirs.stderr


def test_audit_as_a_tenant_admin_shows_only_its_tenant(run, served) -> None:  # type: ignore[no-untyped-def]
    world, _ = served
    result = run("audit", "--json", "--limit", "500", token=world.tokens["bob"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)["items"]
    assert entries and {e["tenant_id"] for e in entries} == {world.tenant_ids["bob"]}
    assert world.tenant_ids["alice"] not in result.stdout
    created = json.loads(
        run(
            "audit",
            "--action",
            "tenant.create",
            "--since",
            "2026-03-01T00:00:00",
            "--json",
            token=world.operator,
        ).stdout
    )
    assert created["total"] >= 2
    assert "Audit log" in run("audit", token=world.operator).stdout
    member = run("audit", token=world.token_for("bob", Role.TENANT_MEMBER))
    assert member.exit_code == 1 and "403" in member.stderr

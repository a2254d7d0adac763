"""The tenant CLI against a live server: tables, one JSON document with --json, API errors exit 1."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from neocloud.cli.main import _register, app
from tests.integration.api_world import ApiWorld, LiveServer


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ApiWorld, str]]:
    _register()
    world = ApiWorld.build()
    with LiveServer(world.app) as server:
        yield world, server.url


@pytest.fixture
def run(served: tuple[ApiWorld, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    world, url = served
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("NEOCLOUD_URL", raising=False)
    monkeypatch.delenv("NEOCLOUD_TOKEN", raising=False)

    def invoke(*args: str, token: str | None = None, base: bool = True):  # type: ignore[no-untyped-def]
        prefix = ["--url", url, "--token", token or world.tokens["alice"]] if base else []
        return CliRunner().invoke(app, [*prefix, *args])

    return invoke


def _reserve(run, start: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """One 8-GPU H100 reservation of an hour from `start`, through the CLI's --json."""
    return json.loads(  # type: ignore[no-any-return]
        run("reserve", "--model", "H100", "--gpus", "8", "--hours", "1", "--start", start, "--json").stdout
    )


def test_reserve_json_prints_one_document(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "reserve",
        "--model",
        "H100",
        "--gpus",
        "8",
        "--hours",
        "1",
        "--start",
        "2026-03-05T00:00:00Z",
        "--json",
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["model"], body["gpus"], body["start"]) == ("H100", 8, "2026-03-05T00:00:00+00:00")


def test_reserve_table_names_the_reservation(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "reserve", "--model", "H100", "--gpus", "8", "--hours", "1", "--start", "2026-03-06T00:00:00Z"
    )
    assert result.exit_code == 0 and "rsv_" in result.stdout


def test_reserve_that_does_not_fit_exits_1_with_the_api_message(run) -> None:  # type: ignore[no-untyped-def]
    result = run("reserve", "--model", "H100", "--gpus", "256", "--hours", "1")  # within the default quota
    assert result.exit_code == 1
    assert "do not fit" in result.stderr and "409" in result.stderr


def test_quote_json_is_one_document(run) -> None:  # type: ignore[no-untyped-def]
    result = run("reserve", "--quote", "--model", "H100", "--gpus", "8", "--hours", "3", "--json")
    assert json.loads(result.stdout)["feasible"] is True


def test_bad_start_is_a_clear_error(run) -> None:  # type: ignore[no-untyped-def]
    result = run("reserve", "--model", "H100", "--gpus", "8", "--hours", "1", "--start", "tomorrow")
    assert result.exit_code == 1 and "ISO 8601" in result.stderr


def test_reservations_list_json_is_a_page(run) -> None:  # type: ignore[no-untyped-def]
    made = _reserve(run, "2026-03-07T00:00:00Z")
    page = json.loads(run("reservations", "list", "--json", "--limit", "500").stdout)
    assert made["id"] in [r["id"] for r in page["items"]] and "next_cursor" in page


def test_reservations_show_includes_events(run) -> None:  # type: ignore[no-untyped-def]
    made = _reserve(run, "2026-03-08T00:00:00Z")
    shown = json.loads(run("reservations", "show", made["id"], "--json").stdout)
    assert shown["id"] == made["id"] and shown["events"][0]["to_state"] == "requested"


def test_reservations_cancel(run) -> None:  # type: ignore[no-untyped-def]
    made = _reserve(run, "2026-03-09T00:00:00Z")
    assert json.loads(run("reservations", "cancel", made["id"], "--json").stdout)["state"] == "cancelled"


def test_show_of_a_missing_reservation_exits_1(run) -> None:  # type: ignore[no-untyped-def]
    result = run("reservations", "show", "rsv_missing")
    assert result.exit_code == 1 and "not found" in result.stderr


def test_instances_create_list_stop(run) -> None:  # type: ignore[no-untyped-def]
    made = json.loads(
        run("instances", "create", "--model", "GB200", "--nodes", "1", "--spot", "--json").stdout
    )
    assert made["spot"] is True
    listed = json.loads(run("instances", "list", "--json").stdout)
    assert made["id"] in [i["id"] for i in listed["items"]]
    stopped = run("instances", "stop", made["id"], "--json")
    assert stopped.exit_code == 0 and json.loads(stopped.stdout)["id"] == made["id"]


def test_no_token_anywhere_is_a_clear_error(run) -> None:  # type: ignore[no-untyped-def]
    result = run("reservations", "list", base=False)
    assert result.exit_code == 1 and "neocloud login" in result.stderr


def test_env_vars_stand_in_for_the_options(run, served, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    world, url = served
    monkeypatch.setenv("NEOCLOUD_URL", url)
    monkeypatch.setenv("NEOCLOUD_TOKEN", world.tokens["bob"])
    assert run("instances", "list", "--json", base=False).exit_code == 0


def test_login_stores_credentials_0600_and_later_commands_use_them(run, served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world, url = served
    assert run("login", "--url", url, "--token", world.tokens["bob"], base=False).exit_code == 0
    path = tmp_path / "neocloud" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["url"] == url
    assert run("reservations", "list", "--json", base=False).exit_code == 0


def test_login_with_a_bad_token_stores_nothing(run, served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, url = served
    result = run("login", "--url", url, "--token", "nc_" + "z" * 43, base=False)
    assert result.exit_code == 1 and "401" in result.stderr
    assert not (tmp_path / "neocloud" / "credentials.json").exists()


def test_reservations_extend_moves_the_end(run) -> None:  # type: ignore[no-untyped-def]
    made = _reserve(run, "2026-03-10T00:00:00Z")
    longer = json.loads(run("reservations", "extend", made["id"], "--hours", "2", "--json").stdout)
    assert longer["end"] == "2026-03-10T03:00:00+00:00"


def test_instances_show_json(run) -> None:  # type: ignore[no-untyped-def]
    made = json.loads(run("instances", "create", "--model", "GB200", "--nodes", "1", "--json").stdout)
    shown = run("instances", "show", made["id"], "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == made["id"]
    run("instances", "stop", made["id"])


def test_same_idempotency_key_from_the_cli_returns_the_same_reservation(run) -> None:  # type: ignore[no-untyped-def]
    args = (
        "reserve",
        "--model",
        "H100",
        "--gpus",
        "8",
        "--hours",
        "1",
        "--start",
        "2026-03-11T00:00:00Z",
        "--idempotency-key",
        "cli-1",
        "--json",
    )
    assert json.loads(run(*args).stdout)["id"] == json.loads(run(*args).stdout)["id"]


def test_given_endpoint_beats_the_stored_one(tmp_path: Path) -> None:
    from neocloud.cli import credentials as c

    path = c.save(c.Endpoint("http://stored:1", "nc_stored"), tmp_path / "creds.json")
    assert c.resolve(c.Endpoint("http://given:2", None), path) == c.Endpoint("http://given:2", "nc_stored")


def test_default_url_when_nothing_is_given_or_stored(tmp_path: Path) -> None:
    from neocloud.cli import credentials as c

    assert c.resolve(c.Endpoint(), tmp_path / "absent.json") == c.Endpoint(c.DEFAULT_URL, None)


def test_corrupt_credentials_file_is_ignored(tmp_path: Path) -> None:
    from neocloud.cli import credentials as c

    path = tmp_path / "creds.json"
    path.write_text("[not, json")
    assert c.load(path) == c.Endpoint()

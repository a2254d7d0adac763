"""Operator commands against a real SQLite file: db upgrade/check, tenants, tokens, fleet import,
nodes list, worker."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from neocloud.cli import main as cli_main
from tests.control_builders import h100_fleet


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("NEOCLOUD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NEOCLOUD_DATABASE_URL", raising=False)
    cli_main._register()
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(cli_main.app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_commands_refuse_an_unmigrated_database_and_say_what_to_run(run):
    result = run("tenants", "create", "acme", ok=False)
    assert result.exit_code == 1 and "neocloud db upgrade" in result.output


def test_db_upgrade_reports_the_revisions(run):
    first = json.loads(run("db", "upgrade", "--json").stdout)
    again = json.loads(run("db", "upgrade", "--json").stdout)
    assert first["from"] is None and first["to"] == again["from"] == again["to"]


def test_token_secret_is_printed_once_and_authenticates(run, tmp_path):
    run("db", "upgrade")
    run("tenants", "create", "acme")
    token = json.loads(
        run("tokens", "create", "--tenant", "acme", "--role", "tenant-member", "--json").stdout
    )
    assert token["token"] == token["secret"] and token["secret"].startswith("nc_")
    assert token["role"] == "tenant-member"
    from neocloud.bootstrap import Settings, build_services

    services = build_services(Settings.from_env(tmp_path))
    assert services.control.tenancy.authenticate(token["secret"]).tenant_id == token["tenant_id"]


def test_fleet_import_of_a_preset_then_nodes_list(run):
    run("db", "upgrade")
    summary = json.loads(run("fleet", "import", "h100-su", "--json").stdout)
    assert summary["added"] == 32 and summary["gpus"] == {"H100": 256}
    nodes = json.loads(run("nodes", "list", "--json").stdout)
    assert nodes["total"] == 32 and nodes["items"][0]["gpu_allocations"] == [None] * 8


def test_fleet_import_of_a_file_skips_nodes_already_there(run, tmp_path):
    from neocloud.fleet.file import dump_fleet

    path = tmp_path / "fleet.yaml"
    path.write_text(dump_fleet(h100_fleet(3)))
    run("db", "upgrade")
    assert json.loads(run("fleet", "import", str(path), "--json").stdout)["added"] == 3
    again = json.loads(run("fleet", "import", str(path), "--json").stdout)
    assert again["added"] == 0 and again["skipped"] == 3


def test_fleet_import_names_an_unknown_preset(run):
    run("db", "upgrade")
    result = run("fleet", "import", "no-such-preset", ok=False)
    assert result.exit_code == 1 and "no-such-preset" in result.output


def test_worker_once_starts_a_due_reservation(run, tmp_path):
    from neocloud.bootstrap import Settings, build_services
    from neocloud.control.app.views import ReservationRequest

    run("db", "upgrade")
    control = build_services(Settings.from_env(tmp_path)).control
    control.fleet.import_fleet(h100_fleet(1))
    control.tenancy.create_tenant("acme")
    who = control.tenancy.authenticate(control.tenancy.create_token("acme", "tenant-member")[1])
    r = control.reservations.reserve(who, ReservationRequest("H100", 8, 1))
    report = json.loads(run("worker", "--once", "--json").stdout)
    assert (report["started"], report["provisioned"], report["total"]) == (1, 1, 2)
    assert control.reservations.get_reservation(who, r.id).state == "active"


def test_bench_admission_reports_each_store(run):
    out = json.loads(
        run(
            "bench",
            "admission",
            "--store",
            "memory",
            "--store",
            "sqlite",
            "--nodes",
            "4",
            "--requests",
            "6",
            "--repeats",
            "1",
            "--json",
        ).stdout
    )
    assert [r["store"] for r in out] == ["memory", "sqlite"]
    assert all(len(r["reserve_runs"]) == 1 and r["requests"] == 6 for r in out)


def test_bench_admission_postgres_needs_a_url(run, monkeypatch):
    monkeypatch.delenv("NEOCLOUD_TEST_POSTGRES_URL", raising=False)
    result = run("bench", "admission", "--store", "postgres", ok=False)
    assert result.exit_code == 1 and "--database-url" in result.output


def test_worker_meters_usage_as_it_reconciles(run, monkeypatch):
    from neocloud.billing.app.service import BillingService

    calls = []
    original = BillingService.meter
    monkeypatch.setattr(
        BillingService, "meter", lambda self, until=None: calls.append(1) or original(self, until)
    )
    run("db", "upgrade")
    run("worker", "--once", "--json")
    assert calls == [1]
    run("worker", "--once", "--meter-every", "0", "--json")
    assert calls == [1]

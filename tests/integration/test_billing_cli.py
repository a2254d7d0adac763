"""Billing commands: operator ones on a real SQLite file, tenant ones against a live server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from neocloud.bootstrap import Settings, build_services, upgrade_database
from neocloud.cli.main import _register, app
from neocloud.control.app.views import InstanceRequest
from neocloud.infra.clock import ManualClock
from neocloud.kernel.periods import Period
from tests.control_builders import h100_fleet
from tests.integration.api_world import ApiWorld, LiveServer

OCT_5 = datetime(2026, 10, 5, 9, tzinfo=UTC)


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEOCLOUD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NEOCLOUD_DATABASE_URL", raising=False)
    _register()
    upgrade_database(Settings.from_env(tmp_path))

    def invoke(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = CliRunner().invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def used_october(tmp_path: Path) -> None:
    """In the database: tenant acme ran one 8-GPU H100 instance for 10 hours on 5 October."""
    clock = ManualClock(OCT_5)
    services = build_services(Settings.from_env(tmp_path), clock=clock)
    try:
        cp = services.control
        cp.fleet.import_fleet(h100_fleet())
        cp.tenancy.create_tenant("acme")
        _, secret = cp.tenancy.create_token("acme", "tenant-admin")
        acme = cp.tenancy.authenticate(secret)
        instance = cp.instances.create_instance(acme, InstanceRequest(model="H100", nodes=1))
        cp.reconcile()
        clock.advance(timedelta(hours=10))
        cp.instances.stop_instance(acme, instance.id)
        cp.reconcile()
    finally:
        services.engine.dispose()


def test_prices_set_then_list_shows_the_new_period(operator) -> None:  # type: ignore[no-untyped-def]
    set_doc = json.loads(
        operator(
            "prices",
            "set",
            "--model",
            "H100",
            "--product",
            "spot",
            "--price",
            "2.10",
            "--currency",
            "USD",
            "--json",
        ).stdout
    )
    listed = json.loads(operator("prices", "list", "--json").stdout)
    spot = [p for p in listed["prices"] if (p["model"], p["product"]) == ("H100", "spot")]
    assert set_doc["price"] == "2.10" and [p["price"] for p in spot] == ["2.46", "2.10"]
    assert spot[0]["to"] == spot[1]["from"]


def test_prices_set_reserved_needs_a_term(operator) -> None:  # type: ignore[no-untyped-def]
    result = operator(
        "prices",
        "set",
        "--model",
        "H100",
        "--product",
        "reserved",
        "--price",
        "3",
        "--currency",
        "USD",
        ok=False,
    )
    assert result.exit_code == 1 and "term_months" in result.output


def test_prices_set_in_the_past_is_refused(operator) -> None:  # type: ignore[no-untyped-def]
    result = operator(
        "prices",
        "set",
        "--model",
        "H100",
        "--product",
        "on-demand",
        "--price",
        "3",
        "--currency",
        "USD",
        "--from",
        "2020-01-01T00:00:00Z",
        ok=False,
    )
    assert result.exit_code == 1 and "is in the past" in result.output


def test_finalize_reconcile_and_revenue_of_a_used_month(operator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    used_october(tmp_path)
    first = json.loads(operator("invoices", "finalize", "--period", "2026-10", "--json").stdout)
    again = json.loads(operator("invoices", "finalize", "--period", "2026-10", "--json").stdout)
    assert [i["total"] for i in first["invoices"]] == ["492.80"] and again == first
    report = json.loads(operator("billing", "reconcile", "--period", "2026-10", "--json").stdout)
    assert report["differences"] == [] and report["invoiced_seconds"] == str(8 * 10 * 3600)
    revenue = json.loads(operator("revenue", "--by", "model", "--json").stdout)
    assert revenue["items"] == [{"model": "H100", "currency": "USD", "amount": "492.80"}]


def test_revenue_by_an_unknown_grouping_exits_1(operator) -> None:  # type: ignore[no-untyped-def]
    result = operator("revenue", "--by", "planet", ok=False)
    assert result.exit_code == 1 and "by" in result.output


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ApiWorld, str, str]]:
    _register()
    world = ApiWorld.build()
    billing = world.billing
    http = world.http(world.tokens["alice"])
    instance = http.post("/v1/instances", json={"model": "H100", "nodes": 1}).json()
    world.control.reconcile()
    world.clock.advance(timedelta(hours=2))
    http.post(f"/v1/instances/{instance['id']}/stop")
    world.control.reconcile()
    world.clock.set(datetime(2026, 4, 2, tzinfo=UTC))
    (invoice,) = billing.finalize(Period.month(2026, 3))
    with LiveServer(world.app) as server:
        yield world, server.url, invoice.id


@pytest.fixture
def tenant(served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    world, url, _ = served
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, ["--url", url, "--token", world.tokens["alice"], *args])

    return invoke


def test_usage_json_is_one_document(tenant) -> None:  # type: ignore[no-untyped-def]
    result = tenant("usage", "--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"] == [
        {"model": "H100", "gpu_seconds": "57600", "gpu_hours": "16.000"}
    ]


def test_invoices_preview_json_has_the_documented_keys(tenant) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(tenant("invoices", "preview", "--period", "2026-03", "--json").stdout)
    assert {"lines", "subtotal", "tax", "total", "currency"} <= set(doc)
    assert doc["lines"] == [
        {
            "product": "on-demand",
            "model": "H100",
            "gpu_hours": "16.000",
            "unit_price": "6.16",
            "amount": "98.56",
        }
    ]


def test_invoices_list_show_and_download(tenant, served) -> None:  # type: ignore[no-untyped-def]
    _, _, invoice_id = served
    listed = json.loads(tenant("invoices", "list", "--json").stdout)
    shown = json.loads(tenant("invoices", "show", invoice_id, "--json").stdout)
    downloaded = tenant("invoices", "download", invoice_id, "--format", "csv")
    assert [i["id"] for i in listed["items"]] == [invoice_id] and shown["total"] == "98.56"
    assert downloaded.exit_code == 0 and downloaded.stdout.startswith("invoice_id,")


def test_showing_an_unknown_invoice_exits_1(tenant) -> None:  # type: ignore[no-untyped-def]
    result = tenant("invoices", "show", "INV-nope")
    assert result.exit_code == 1 and "not found" in result.output


def test_credit_note_pay_and_void_of_a_finalized_invoice(operator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    used_october(tmp_path)
    (invoice,) = json.loads(operator("invoices", "finalize", "--period", "2026-10", "--json").stdout)[
        "invoices"
    ]
    note = json.loads(
        operator(
            "invoices", "credit-note", invoice["id"], "--reason", "goodwill", "--amount", "10.00", "--json"
        ).stdout
    )
    assert (note["kind"], note["total"], note["refers_to"]) == ("credit-note", "-10.00", invoice["id"])
    assert json.loads(operator("invoices", "pay", invoice["id"], "--json").stdout)["state"] == "paid"
    voided = operator("invoices", "void", invoice["id"], ok=False)
    assert voided.exit_code == 1 and "cannot go from paid to void" in " ".join(voided.output.split())
    revenue = json.loads(operator("revenue", "--by", "tenant", "--json").stdout)["items"]
    assert [r["amount"] for r in revenue] == ["482.80"]


def test_a_credit_is_applied_to_the_next_invoice(operator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    used_october(tmp_path)
    operator("billing", "meter")
    tenant = next(
        iter(
            json.loads(operator("billing", "reconcile", "--period", "2026-10", "--json").stdout)[
                "differences"
            ]
        )
    )
    credit = json.loads(
        operator(
            "billing",
            "credit",
            "--tenant",
            tenant["tenant_id"],
            "--amount",
            "12.50",
            "--reason",
            "maintenance overran",
            "--json",
        ).stdout
    )
    assert credit["amount"] == "12.50"
    (invoice,) = json.loads(operator("invoices", "finalize", "--period", "2026-10", "--json").stdout)[
        "invoices"
    ]
    assert invoice["total"] == "480.30"
    assert json.loads(operator("billing", "incidents", "--json").stdout) == {"items": []}

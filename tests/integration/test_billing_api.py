"""Usage and invoices over HTTP, metered from the control plane's own events."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from neocloud.billing.app.service import BillingService
from neocloud.client import ApiError
from neocloud.client.billing import BillingClient
from neocloud.kernel.periods import Period
from tests.integration.api_world import ApiWorld

MARCH = Period.month(2026, 3)


@pytest.fixture
def world() -> ApiWorld:
    return ApiWorld.build()


def billing(world: ApiWorld) -> BillingService:
    return world.billing


def run_instance(world: ApiWorld, hours: int, *, tenant: str = "alice", nodes: int = 1) -> str:
    """An on-demand H100 instance of `nodes` nodes, active for `hours` hours, then stopped and ended."""
    http = world.http(world.tokens[tenant])
    instance = http.post("/v1/instances", json={"model": "H100", "nodes": nodes}).json()
    world.control.reconcile()
    world.clock.advance(timedelta(hours=hours))
    assert http.post(f"/v1/instances/{instance['id']}/stop").status_code == 200
    world.control.reconcile()
    return str(instance["id"])


def finalize_march(world: ApiWorld) -> list:
    world.clock.set(MARCH.end + timedelta(days=1))
    return billing(world).finalize(MARCH)


def test_usage_counts_gpu_hours_of_a_running_instance(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    http.post("/v1/instances", json={"model": "H100", "nodes": 1})
    world.control.reconcile()
    world.clock.advance(timedelta(hours=2))
    doc = http.get("/v1/usage").json()
    assert [(i["model"], i["gpu_hours"]) for i in doc["items"]] == [("H100", "16.000")]


def test_preview_prices_usage_at_list(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    http.post("/v1/instances", json={"model": "H100", "nodes": 1})
    world.control.reconcile()
    world.clock.advance(timedelta(hours=1))
    doc = http.get("/v1/invoices/preview").json()
    assert doc["lines"] == [
        {
            "product": "on-demand",
            "model": "H100",
            "gpu_hours": "8.000",
            "unit_price": "6.16",
            "amount": "49.28",
        }
    ]
    assert (doc["subtotal"], doc["tax"], doc["total"], doc["currency"]) == ("49.28", "0.00", "49.28", "USD")


def test_finalized_invoice_is_listed_and_shown(world: ApiWorld) -> None:
    run_instance(world, 3)
    (invoice,) = finalize_march(world)
    http = world.http(world.tokens["alice"])
    assert [i["id"] for i in http.get("/v1/invoices").json()] == [invoice.id]
    shown = http.get(f"/v1/invoices/{invoice.id}").json()
    assert (shown["state"], shown["total"], shown["lines"][0]["gpu_hours"]) == (
        "finalized",
        "147.84",
        "24.000",
    )


def test_download_serves_csv_and_html(world: ApiWorld) -> None:
    run_instance(world, 1)
    (invoice,) = finalize_march(world)
    http = world.http(world.tokens["alice"])
    as_csv = http.get(f"/v1/invoices/{invoice.id}/download", params={"format": "csv"})
    as_html = http.get(f"/v1/invoices/{invoice.id}/download", params={"format": "html"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert [r["amount"] for r in csv.DictReader(io.StringIO(as_csv.text)) if r["row"] == "total"] == ["49.28"]
    assert as_html.headers["content-type"].startswith("text/html") and "49.28" in as_html.text


def test_unknown_download_format_is_422(world: ApiWorld) -> None:
    run_instance(world, 1)
    (invoice,) = finalize_march(world)
    r = world.http(world.tokens["alice"]).get(f"/v1/invoices/{invoice.id}/download", params={"format": "pdf"})
    assert (r.status_code, r.json()["error"]) == (422, "invalid-input")


def test_another_tenants_invoice_is_not_found(world: ApiWorld) -> None:
    run_instance(world, 1)
    (invoice,) = finalize_march(world)
    r = world.http(world.tokens["bob"]).get(f"/v1/invoices/{invoice.id}")
    assert (r.status_code, r.json()["error"]) == (404, "not-found")
    assert world.http(world.tokens["bob"]).get("/v1/invoices").json() == []


def test_operator_names_the_tenant_for_usage(world: ApiWorld) -> None:
    r = world.http(world.operator).get("/v1/usage")
    assert (r.status_code, r.json()["details"]["field"]) == (422, "tenant")
    ok = world.http(world.operator).get("/v1/usage", params={"tenant": world.tenant_ids["alice"]})
    assert ok.status_code == 200


def test_metering_the_control_plane_twice_adds_nothing(world: ApiWorld) -> None:
    run_instance(world, 5)
    world.clock.advance(timedelta(days=2))
    first, second = billing(world).meter(), billing(world).meter()
    assert first.entries_added > 0 and second.entries_added == 0


def test_reconcile_after_finalize_is_clean(world: ApiWorld) -> None:
    run_instance(world, 2)
    run_instance(world, 4, tenant="bob", nodes=2)
    finalize_march(world)
    report = billing(world).reconcile(MARCH).to_dict()
    assert report["differences"] == [] and report["invoiced_seconds"] == str(8 * 2 * 3600 + 16 * 4 * 3600)


def test_billing_client_reads_usage_and_invoices(world: ApiWorld) -> None:
    run_instance(world, 1)
    (invoice,) = finalize_march(world)
    client = BillingClient(world.client(world.tokens["alice"]))
    assert client.invoice(invoice.id).total == "49.28"
    assert "49.28" in client.download_invoice(invoice.id, "csv")
    with pytest.raises(ApiError) as err:
        client.invoice("INV-nope")
    assert err.value.status == 404


def test_a_reservation_bills_its_window_at_the_reserved_price(world: ApiWorld) -> None:
    http = world.http(world.tokens["alice"])
    r = http.post("/v1/reservations", json={"model": "H100", "gpus": 8, "hours": 3})
    assert r.status_code == 201, r.text
    (invoice,) = finalize_march(world)
    (line,) = invoice.lines
    assert (line.product, line.term_months, str(line.unit_price), line.gpu_hours_text, str(line.amount)) == (
        "reserved",
        1,
        "3.6960",
        "24.000",
        "88.70",
    )

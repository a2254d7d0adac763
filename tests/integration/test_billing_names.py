"""Names beside ids wherever a person reads billing: the invoice's "Billed to" (HTML and CSV), usage by
project, revenue by tenant, the operator's lists; and a tenant never sees another tenant's name."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from neocloud.kernel.periods import Period
from tests.integration.api_world import ApiWorld
from tests.integration.test_billing_cli import operator, used_october  # noqa: F401  (fixture)

MARCH = Period.month(2026, 3)
SET_ON_DEMAND = [
    "prices",
    "set",
    "--model",
    "H100",
    "--product",
    "on-demand",
    "--price",
    "1.50",
    "--currency",
    "USD",
]


@pytest.fixture
def billed() -> ApiWorld:
    """alice ran an instance in each of two projects and bob one in his "bobs-lab"; March is invoiced."""
    world = ApiWorld.build()
    alice, bob = world.http(world.tokens["alice"]), world.http(world.tokens["bob"])
    for tenant, name in (("alice", "research"), ("bob", "bobs-lab")):
        body = {"tenant_id": world.tenant_ids[tenant], "name": name}
        made = world.http(world.tokens[tenant]).post("/v1/projects", json=body)
        assert made.status_code == 201, made.text
    for http, body in (
        (alice, {"model": "H100", "nodes": 1}),
        (alice, {"model": "GB200", "nodes": 1, "project": "research"}),
        (bob, {"model": "H100", "nodes": 1, "project": "bobs-lab"}),
    ):
        created = http.post("/v1/instances", json=body)
        assert created.status_code == 201, created.text
    world.control.reconcile()
    world.clock.advance(timedelta(hours=2))
    world.clock.set(MARCH.end + timedelta(days=1))
    world.billing.finalize(MARCH)
    return world


def invoice_id(world: ApiWorld, tenant: str) -> str:
    (doc,) = world.http(world.tokens[tenant]).get("/v1/invoices").json()
    return str(doc["id"])


def test_the_invoice_html_is_billed_to_the_tenants_name(billed: ApiWorld) -> None:
    http = billed.http(billed.tokens["alice"])
    page = http.get(f"/v1/invoices/{invoice_id(billed, 'alice')}/download", params={"format": "html"}).text
    assert f'Billed to</dt><dd>alice <span class="muted">({billed.tenant_ids["alice"]})</span>' in page
    assert "bob" not in page


def test_the_invoice_csv_names_the_tenant_on_every_row(billed: ApiWorld) -> None:
    http = billed.http(billed.tokens["alice"])
    text = http.get(f"/v1/invoices/{invoice_id(billed, 'alice')}/download", params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {(r["tenant"], r["tenant_name"]) for r in rows} == {(billed.tenant_ids["alice"], "alice")}
    assert "bob" not in text


def test_invoice_documents_and_lists_carry_the_tenant_name(billed: ApiWorld) -> None:
    alice = billed.http(billed.tokens["alice"])
    shown = alice.get(f"/v1/invoices/{invoice_id(billed, 'alice')}").json()
    assert (shown["tenant"], shown["tenant_name"]) == (billed.tenant_ids["alice"], "alice")
    assert [i["tenant_name"] for i in alice.get("/v1/invoices").json()] == ["alice"]
    preview = alice.get("/v1/invoices/preview", params={"period": "2026-03"}).json()
    assert preview["tenant_name"] == "alice"
    everyone = billed.http(billed.operator).get("/v1/invoices").json()
    assert sorted((i["tenant"], i["tenant_name"]) for i in everyone) == sorted(
        (billed.tenant_ids[n], n) for n in ("alice", "bob")
    )


def test_usage_by_project_names_the_tenants_own_projects_only(billed: ApiWorld) -> None:
    window = {"from": MARCH.start.isoformat(), "to": MARCH.end.isoformat(), "by": "project"}
    raw = billed.http(billed.tokens["alice"]).get("/v1/usage", params=window)
    doc = raw.json()
    assert doc["tenant_name"] == "alice"
    assert sorted(i["project_name"] for i in doc["items"]) == ["default", "research"]
    assert "bob" not in raw.text
    by_model = billed.http(billed.tokens["alice"]).get("/v1/usage", params={**window, "by": "model"}).json()
    assert all("project_name" not in i for i in by_model["items"])


def test_a_tenant_asking_for_another_tenants_usage_learns_nothing(billed: ApiWorld) -> None:
    for ref in (billed.tenant_ids["bob"], "bob"):
        r = billed.http(billed.tokens["alice"]).get("/v1/usage", params={"tenant": ref})
        assert r.status_code == 404 and "bobs-lab" not in r.text


def test_operators_name_the_tenant_by_name_or_id_and_an_unknown_one_is_404(billed: ApiWorld) -> None:
    http = billed.http(billed.operator)
    by_name = http.get("/v1/usage", params={"tenant": "bob", "by": "project"}).json()
    assert (by_name["tenant"], [i["project_name"] for i in by_name["items"]]) == (
        billed.tenant_ids["bob"],
        ["bobs-lab"],
    )
    missing = http.get("/v1/usage", params={"tenant": "nobody"})
    assert missing.status_code == 404 and "nobody" in missing.json()["message"]


def test_revenue_by_tenant_names_each_tenant(billed: ApiWorld) -> None:
    rows = billed.billing.revenue("tenant")
    assert sorted((r["tenant"], r["tenant_name"]) for r in rows) == sorted(
        (billed.tenant_ids[n], n) for n in ("alice", "bob")
    )
    assert all("tenant_name" not in r for r in billed.billing.revenue("model"))


# operator CLI, on a SQLite file ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as they need (the test runner has no terminal to size them by)."""
    from neocloud.cli.output import console

    monkeypatch.setattr(console, "width", 250)


def test_prices_set_for_a_tenant_by_name_lists_it_with_its_name(operator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    used_october(tmp_path)
    args = SET_ON_DEMAND
    doc = json.loads(operator(*args, "--tenant", "acme", "--json").stdout)
    assert doc["tenant"].startswith("ten_") and doc["tenant_name"] == "acme"
    listed = json.loads(operator("prices", "list", "--tenant", "acme", "--json").stdout)["prices"]
    assert [(p["tenant"], p["tenant_name"]) for p in listed if p["tenant"]] == [(doc["tenant"], "acme")]
    table = operator("prices", "list", "--tenant", "acme").stdout
    assert f"acme ({doc['tenant']})" in table


def test_prices_set_for_an_unknown_tenant_fails_naming_it(operator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    used_october(tmp_path)
    args = SET_ON_DEMAND
    result = operator(*args, "--tenant", "nobody", ok=False)
    assert result.exit_code == 1 and "tenant 'nobody' not found" in result.output
    listed = json.loads(operator("prices", "list", "--json").stdout)["prices"]
    assert all(p["tenant"] is None for p in listed)


def test_operator_invoices_and_revenue_tables_name_the_tenant(operator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    used_october(tmp_path)
    finalized = operator("invoices", "finalize", "--period", "2026-10").stdout
    assert "acme (ten_" in finalized
    doc = json.loads(operator("revenue", "--by", "tenant", "--json").stdout)
    assert [r["tenant_name"] for r in doc["items"]] == ["acme"]
    assert "acme (ten_" in operator("revenue", "--by", "tenant").stdout


def test_reconcile_differences_name_their_tenant() -> None:
    from neocloud.billing.app.views import reconcile_view

    world = ApiWorld.build()
    created = world.http(world.tokens["alice"]).post("/v1/instances", json={"model": "H100", "nodes": 1})
    assert created.status_code == 201, created.text
    world.control.reconcile()
    world.clock.set(MARCH.end + timedelta(days=1))
    world.billing.meter()
    raw = world.billing.reconcile(MARCH).to_dict()
    names = world.billing.tenant_names(d["tenant_id"] for d in raw["differences"])
    (uninvoiced,) = reconcile_view(raw, names)["differences"]
    assert (uninvoiced["kind"], uninvoiced["tenant_id"], uninvoiced["tenant_name"]) == (
        "uninvoiced",
        world.tenant_ids["alice"],
        "alice",
    )

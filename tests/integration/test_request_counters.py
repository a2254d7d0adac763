# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""The counters every request reads (the auth epoch, the price catalog's version) are read in one
statement outside any transaction, once per read-only request (infra/counters.py), and that changes
nothing a client can see: a revoke, a suspension or a price change made through one server holds on
every other at its next request, on every route the read scope covers (quote, list, show)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, literal, select

from neocloud.api.app import create_app
from neocloud.control.adapters.sql import tables as t
from neocloud.infra.counters import Counters, Part
from neocloud.infra.engine import make_engine
from neocloud.kernel.errors import Unavailable
from neocloud.kernel.products import Product
from tests.control_builders import World, engine, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(120)
QUOTE = {"model": "H100", "gpus": 1, "hours": 1}


def _app(x: World) -> TestClient:
    return TestClient(create_app(x.services), raise_server_exceptions=False)


def _watch(engine: Engine) -> tuple[list[str], list[int]]:
    """Every statement sent on `engine` (whitespace folded) and one entry per connection checkout."""
    statements: list[str] = []
    checkouts: list[int] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    @event.listens_for(engine, "checkout")
    def checkout(*_: object) -> None:
        checkouts.append(1)

    return statements, checkouts


def _routes(client: TestClient, auth: dict[str, str], reservation_id: str) -> dict[str, int]:
    """The status of each route in the read scope."""
    return {
        "quote": client.post("/v1/reservations/quote", json=QUOTE, headers=auth).status_code,
        "list": client.get("/v1/reservations", headers=auth).status_code,
        "show": client.get(f"/v1/reservations/{reservation_id}", headers=auth).status_code,
    }


def test_a_revoke_on_one_server_refuses_quote_list_and_show_on_another_at_its_next_request(engine) -> None:
    one, two = world(engine), world(engine)
    two.clock.set(one.clock.now())
    one.tenant("acme")
    view, secret = one.control.tenancy.create_token("acme", "tenant-admin")
    token_id = view.id
    _, operator = one.control.tenancy.create_token(None, "operator")
    a, b = _app(one), _app(two)
    auth = {"Authorization": f"Bearer {secret}"}
    made = a.post("/v1/reservations", json=QUOTE, headers=auth)
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    ok = {"quote": 200, "list": 200, "show": 200}
    assert _routes(b, auth, rid) == ok and _routes(b, auth, rid) == ok  # b has cached the caller
    revoked = a.delete(f"/v1/tokens/{token_id}", headers={"Authorization": f"Bearer {operator}"})
    assert revoked.status_code == 200
    refused = {"quote": 401, "list": 401, "show": 401}
    assert _routes(b, auth, rid) == refused
    assert _routes(a, auth, rid) == refused


def test_a_suspension_on_one_server_leaves_reads_and_refuses_writes_on_another_at_once(engine) -> None:
    one, two = world(engine), world(engine)
    two.clock.set(one.clock.now())
    acme = one.tenant("acme")
    _, secret = one.control.tenancy.create_token("acme", "tenant-admin")
    _, operator = one.control.tenancy.create_token(None, "operator")
    a, b = _app(one), _app(two)
    auth = {"Authorization": f"Bearer {secret}"}
    assert b.post("/v1/reservations/quote", json=QUOTE, headers=auth).status_code == 200  # cached on b
    suspended = a.post(
        f"/v1/tenants/{acme.tenant_id}/suspend", headers={"Authorization": f"Bearer {operator}"}
    )
    assert suspended.status_code == 200
    assert b.post("/v1/reservations/quote", json=QUOTE, headers=auth).status_code == 200
    refused = b.post("/v1/reservations", json=QUOTE, headers=auth)
    assert refused.status_code == 403 and "suspended" in refused.json()["message"]


def test_a_price_set_through_one_server_is_quoted_by_another_at_its_next_request(engine) -> None:
    one, two = world(engine), world(engine)
    two.clock.set(one.clock.now())
    one.tenant("acme")
    _, secret = one.control.tenancy.create_token("acme", "tenant-admin")
    b = _app(two)
    auth = {"Authorization": f"Bearer {secret}"}
    before = b.post("/v1/reservations/quote", json=QUOTE, headers=auth).json()["unit_price"]
    assert one.services.billing is not None
    one.services.billing.set_price(
        model="H100", product=Product.RESERVED.value, price="7.77", currency="USD", term_months=1
    )
    after = b.post("/v1/reservations/quote", json=QUOTE, headers=auth).json()["unit_price"]
    assert before != "7.77" and after == "7.77"


def test_a_quote_reads_the_auth_epoch_and_the_catalog_version_in_one_statement_without_a_transaction(
    engine,
) -> None:
    w = world(engine, default_quota_gpus=None)
    w.tenant("acme")
    _, secret = w.control.tenancy.create_token("acme", "tenant-admin")
    client = _app(w)
    auth = {"Authorization": f"Bearer {secret}"}
    for _ in range(2):  # the principal and the catalog are cached after the first
        assert client.post("/v1/reservations/quote", json=QUOTE, headers=auth).status_code == 200
    assert w.services.engine is not None
    statements, checkouts = _watch(w.services.engine)
    assert client.post("/v1/reservations/quote", json=QUOTE, headers=auth).status_code == 200
    counters = [s for s in statements if "auth_epoch" in s or "billing" in s]
    assert len(counters) == 1, statements
    assert "FROM auth_epoch" in counters[0] and "FROM billing_catalogs" in counters[0]
    assert statements[0] == counters[0]  # read first, before the quote's unit of work
    quote_reads = ["FROM quotas", "max(nodes.ordinal)", "AS owner"]
    if engine.dialect.name == "sqlite":  # the unit of work's read-only transaction; none for the counters
        quote_reads = ["BEGIN", *quote_reads]
    assert len(statements) == 1 + len(quote_reads), statements
    for statement, kind in zip(statements[1:], quote_reads, strict=True):
        assert kind in statement, (kind, statement)
    assert len(checkouts) == 2  # the counters and the quote's unit of work (there were three)


def test_outside_a_scope_each_read_is_its_own_statement_and_a_scope_reads_every_counter_once(engine) -> None:
    w = world(engine)
    assert w.services.engine is not None
    counters = Counters(w.services.engine)
    w.control.tenancy.create_tenant("acme")
    view, _ = w.control.tenancy.create_token("acme", "tenant-admin")

    def answer() -> Part:
        return (select(literal(41) + 1).scalar_subquery(),)

    def epoch() -> Part:
        return (select(t.auth_epoch.c.version).where(t.auth_epoch.c.id == 1).scalar_subquery(),)

    statements, _ = _watch(w.services.engine)
    assert counters.read("answer", answer) == (42,)
    before = counters.read("epoch", epoch)[0]
    assert len(statements) == 2  # one each
    statements.clear()
    with counters.scope():
        assert counters.read("answer", answer) == (42,)
        assert counters.read("epoch", epoch) == (before,)
        assert counters.read("answer", answer) == (42,)
    assert len(statements) == 1 and "c0" in statements[0] and "c1" in statements[0]
    w.control.tenancy.revoke_token(None, view.id)  # bumps the epoch
    statements.clear()
    with counters.scope():  # a new scope reads again, and sees what committed since
        after = counters.read("epoch", epoch)[0]
    assert len(statements) == 1
    assert after == w.control.tenancy.auth_epoch() and after != before


def test_a_reservation_reads_the_auth_epoch_and_the_catalog_version_in_one_statement(engine) -> None:
    w = world(engine, default_quota_gpus=None)
    w.tenant("acme")
    _, secret = w.control.tenancy.create_token("acme", "tenant-admin")
    client = _app(w)
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.post("/v1/reservations", json=QUOTE, headers=auth).status_code == 201
    assert w.services.engine is not None
    statements, _ = _watch(w.services.engine)
    assert client.post("/v1/reservations", json=QUOTE, headers=auth).status_code == 201
    counters = [s for s in statements if "auth_epoch" in s or "billing" in s]
    assert len(counters) == 1 and "FROM billing_catalogs" in counters[0], statements
    assert statements[0] == counters[0]


def test_a_counter_read_from_a_database_out_of_reach_is_unavailable_in_and_outside_a_scope() -> None:
    """The counters are the first statement of every request: a database that cannot be reached must be
    a 503 (Unavailable) there too, never a 500."""
    unreachable = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/neocloud?connect_timeout=2")
    counters = Counters(unreachable)

    def answer() -> Part:
        return (select(literal(1)).scalar_subquery(),)

    with pytest.raises(Unavailable):
        counters.read("answer", answer)
    with pytest.raises(Unavailable), counters.scope():
        counters.read("answer", answer)
    unreachable.dispose()

"""The console over HTTP (in-process), on SQLite and PostgreSQL: every main page answers for the role it
is for, a tenant gets the API's 404 for anything else, forms need the session's CSRF token and this
origin, and sessions end at sign-out, on revocation, when idle and at their lifetime."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tests.browser.demo_world import Demo, build_demo

ORIGIN = "http://127.0.0.1"
TENANT_PAGES = ["/", "/reservations", "/instances", "/usage", "/invoices", "/tokens"]
OPERATOR_PAGES = [
    "/operator/fleet",
    "/operator/fleet/topology.json",
    "/operator/fleet/state.json",
    "/operator/nodes",
    "/operator/tenants",
    "/operator/prices",
    "/operator/revenue",
    "/operator/utilisation",
]


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    where = tmp_path_factory.mktemp("console")
    if request.param == "sqlite":
        built = build_demo(where)
        yield built
        built.services.close()
        return
    from tests.integration.api_world import fresh_postgres_database

    with fresh_postgres_database() as url:
        built = build_demo(where, database_url=url)
        yield built
        built.services.close()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def signed_in(demo: Demo, token: str) -> TestClient:
    client = TestClient(demo.app, base_url=ORIGIN, raise_server_exceptions=True)
    form = client.get("/signin")
    response = client.post(
        "/signin", data={"csrf": _csrf(form.text), "token": token, "next": "/"}, follow_redirects=False
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    return client


def test_every_main_page_answers_for_its_role(demo: Demo) -> None:
    acme = signed_in(demo, demo.acme)
    for path in [*TENANT_PAGES, f"/invoices/{demo.world.invoice_of['acme']}"]:
        response = acme.get(path)
        assert response.status_code == 200, path
        assert "Content-Security-Policy" in response.headers
    operator = signed_in(demo, demo.operator)
    for path in [*OPERATOR_PAGES, "/invoices", "/tokens", "/usage?tenant=acme"]:
        assert operator.get(path).status_code == 200, path
    topo = operator.get("/operator/fleet/topology.json").json()
    live = operator.get("/operator/fleet/state.json").json()
    assert len(topo["trays"]["name"]) == len(topo["trays"]["rack"]) == demo.world.fleet_summary["nodes"]
    assert live["version"] == topo["version"]
    assert any("acme" in t for t in live["tenants"]) and any("globex" in t for t in live["tenants"])
    held = {row[0] for row in live["held"]}
    assert held and all(0 <= pos < len(topo["trays"]["name"]) for pos in held)


def test_a_tenant_gets_the_apis_404_for_operator_pages_and_other_tenants_objects(demo: Demo) -> None:
    globex = signed_in(demo, demo.globex)
    for path in OPERATOR_PAGES:
        assert globex.get(path).status_code == 404, path
    acme_invoice = demo.world.invoice_of["acme"]
    acme_reservation = demo.world.reservations[0]
    for path in (
        f"/invoices/{acme_invoice}",
        f"/invoices/{acme_invoice}/download?format=html",
        f"/reservations/{acme_reservation}",
        "/reservations/no-such-thing",
        "/invoices/..%2F..%2Fetc",
    ):
        response = globex.get(path)
        assert response.status_code == 404, path
        assert "acme" not in response.text
    api = TestClient(demo.app).get(
        f"/v1/reservations/{acme_reservation}", headers={"Authorization": f"Bearer {demo.globex}"}
    )
    assert api.status_code == 404  # the same answer as the API's


def test_forms_need_the_sessions_csrf_token_and_this_origin(demo: Demo) -> None:
    acme = signed_in(demo, demo.acme)
    csrf = _csrf(acme.get("/tokens").text)
    reservation = demo.world.reservations[1]
    for data, headers in (
        ({}, {}),
        ({"csrf": "wrong"}, {}),
        ({"csrf": csrf}, {"Origin": "http://evil.example"}),
    ):
        response = acme.post(
            f"/reservations/{reservation}/extend",
            data={"hours": "1", **data},
            headers=headers,
            follow_redirects=False,
        )
        assert response.status_code == 403, (data, headers)
    response = acme.post(
        f"/reservations/{reservation}/extend",
        content=f'{{"csrf": "{csrf}", "hours": 1}}',
        headers={"Content-Type": "application/json"},
        follow_redirects=False,
    )
    assert response.status_code == 403  # only urlencoded forms
    ok = acme.post(
        f"/reservations/{reservation}/extend",
        data={"hours": "1", "csrf": csrf},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_without_a_session_every_page_sends_the_browser_to_sign_in(demo: Demo) -> None:
    anonymous = TestClient(demo.app, base_url=ORIGIN)
    for path in [*TENANT_PAGES, *OPERATOR_PAGES]:
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/signin?next="), path
    assert anonymous.post("/tokens", data={"role": "viewer"}, follow_redirects=False).status_code == 303
    anonymous.cookies.set("nc_session", "x" * 43)
    forged = anonymous.get("/", follow_redirects=False)
    assert forged.status_code == 303


def test_sign_in_refuses_a_bad_token_and_never_redirects_off_site(demo: Demo) -> None:
    client = TestClient(demo.app, base_url=ORIGIN)
    form = client.get("/signin")
    bad = client.post("/signin", data={"csrf": _csrf(form.text), "token": "nc_nope", "next": "/"})
    assert bad.status_code == 401 and "nc_session" not in bad.headers.get("set-cookie", "")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        form = client.get("/signin")
        response = client.post(
            "/signin",
            data={"csrf": _csrf(form.text), "token": demo.acme, "next": target},
            follow_redirects=False,
        )
        assert response.status_code == 303 and response.headers["location"] == "/", target


def test_a_session_ends_at_sign_out_on_revocation_when_idle_and_at_its_lifetime(demo: Demo) -> None:
    store = demo.services.control.sessions
    acme = signed_in(demo, demo.acme)
    signed_out = acme.post("/signout", data={"csrf": _csrf(acme.get("/").text)}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert acme.get("/", follow_redirects=False).status_code == 303

    control = demo.services.control
    principal = control.tenancy.authenticate(demo.acme)
    view, secret = control.tenancy.create_token("acme", "tenant-member", principal=principal)
    member = signed_in(demo, secret)
    assert member.get("/reservations").status_code == 200
    control.tenancy.revoke_token(principal, view.id)
    assert member.get("/reservations", follow_redirects=False).status_code == 303

    at = [datetime.now(UTC)]
    old_clock = store.clock
    store.clock = lambda: at[0]
    try:
        idle = signed_in(demo, demo.acme)
        at[0] += store.idle - timedelta(seconds=1)
        assert idle.get("/").status_code == 200
        at[0] += store.idle + timedelta(seconds=1)
        assert idle.get("/", follow_redirects=False).status_code == 303
        busy = signed_in(demo, demo.acme)
        for _ in range(int(store.lifetime / (store.idle / 2)) + 1):
            at[0] += store.idle / 2
            response = busy.get("/", follow_redirects=False)
        assert response.status_code == 303  # active all along, but past its lifetime
    finally:
        store.clock = old_clock


def test_a_session_survives_a_restart_and_works_on_another_server_until_its_token_is_revoked(
    demo: Demo,
) -> None:
    from neocloud.api.app import create_app
    from neocloud.bootstrap import build_services

    control = demo.services.control
    admin = control.tenancy.authenticate(demo.acme)
    view, secret = control.tenancy.create_token("acme", "tenant-member", principal=admin)
    browser = signed_in(demo, secret)
    assert browser.get("/reservations").status_code == 200
    cookie = browser.cookies.get("nc_session")
    assert cookie
    # the key is the cookie's sha256, never the cookie itself
    assert store_key_of(cookie) != cookie and control.sessions.records.get(cookie) is None
    if demo.services.engine is not None:  # a restarted server (or another one) on the same database
        again = build_services(demo.services.settings)
        try:
            other = TestClient(create_app(again), base_url=ORIGIN)
            other.cookies.set("nc_session", cookie)
            page = other.get("/reservations", follow_redirects=False)
            assert page.status_code == 200 and "acme" in page.text
            control.tenancy.revoke_token(admin, view.id)  # on the first server
            assert other.get("/reservations", follow_redirects=False).status_code == 303
            assert again.control.sessions.records.get(store_key_of(cookie)) is None  # ended, not just refused
        finally:
            again.close()
    else:
        control.tenancy.revoke_token(admin, view.id)
    assert browser.get("/reservations", follow_redirects=False).status_code == 303


def test_revoking_a_token_from_the_console_ends_its_other_sessions_at_once(demo: Demo) -> None:
    control = demo.services.control
    admin = control.tenancy.authenticate(demo.acme)
    view, secret = control.tenancy.create_token("acme", "tenant-member", principal=admin)
    member = signed_in(demo, secret)
    assert member.get("/usage").status_code == 200
    acme = signed_in(demo, demo.acme)
    csrf = _csrf(acme.get("/tokens").text)
    done = acme.post(f"/tokens/{view.id}/revoke", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert control.sessions.records.get(store_key_of(member.cookies.get("nc_session") or "")) is None
    assert member.get("/usage", follow_redirects=False).status_code == 303
    assert acme.get("/usage").status_code == 200  # the revoker's own session goes on


def store_key_of(cookie: str) -> str:
    from neocloud.control.app.sessions import session_key

    return session_key(cookie)


def test_usage_charts_and_sla_attainment_show_the_finished_month(demo: Demo) -> None:
    acme = signed_in(demo, demo.acme)
    month = demo.world.past_month
    html = acme.get(f"/usage?period={month}").text
    day_chart = html[html.index('data-chart="usage-day"') :]
    day_chart = day_chart[: day_chart.index("</svg>")]
    assert day_chart.count('class="col"') >= 2  # the past month's reservation ran over several days
    assert 'data-chart="usage-model"' in html and "H100" in html
    invoices = acme.get("/invoices").text
    assert f'data-period="{month}"' in invoices and "SLA attainment" in invoices
    assert "globex" not in invoices


def test_a_quote_that_does_not_fit_shows_the_placement_reasons_and_a_viewer_cannot_reserve(
    demo: Demo,
) -> None:
    control = demo.services.control
    operator = control.tenancy.authenticate(demo.operator)
    acme = control.tenancy.authenticate(demo.acme)
    assert acme.tenant_id is not None
    control.tenancy.set_quota(operator, acme.tenant_id, "H100", 10_000)
    client = signed_in(demo, demo.acme)
    csrf = _csrf(client.get("/reservations").text)
    asked = {"csrf": csrf, "model": "H100", "gpus": "256", "hours": "4", "shape": "whole-nodes", "start": ""}
    html = client.post("/reservations/quote", data=asked).text
    assert 'data-feasible="no"' in html
    reasons = html[html.index('class="reasons"') :]
    assert "free-gpus" in reasons and "topology" in reasons
    refused = client.post("/reservations", data=asked)
    assert refused.status_code == 409 and 'id="reserve-error"' in refused.text

    _, secret = control.tenancy.create_token("acme", "viewer", principal=acme)
    viewer = signed_in(demo, secret)
    csrf = _csrf(viewer.get("/reservations").text)
    before = control.reservations.list_reservations(acme).total
    response = viewer.post("/reservations", data={**asked, "csrf": csrf, "gpus": "8"})
    assert response.status_code == 403 and "read only" in response.text
    assert control.reservations.list_reservations(acme).total == before


def test_the_server_warms_the_fleet_maps_topology_at_start_without_waiting_for_it(demo: Demo) -> None:
    import threading

    demo.app.state.console_cache.pop("topology-bin", None)
    with TestClient(demo.app, base_url=ORIGIN) as client:  # runs the app's lifespan: start-up
        assert client.get("/healthz").status_code == 200  # the server answers at once
        for thread in threading.enumerate():
            if thread.name == "console-warm":
                thread.join()
    version, body = demo.app.state.console_cache["topology-bin"]
    assert body[:4] == b"NCFM" and version == demo.services.control.fleetmap.version()
    operator = signed_in(demo, demo.operator)
    served = operator.get(f"/operator/fleet/topology.bin?v={version}")
    assert served.content == body and "immutable" in served.headers["cache-control"]
    assert operator.get("/operator/fleet/topology.bin").headers["cache-control"] == "no-store"
    acme = signed_in(demo, demo.acme)
    assert acme.get("/operator/fleet/topology.bin").status_code == 404
    assert acme.get("/operator/fleet/state.bin").status_code == 404


def test_a_price_set_from_the_console_starts_at_the_instant_given_in_its_offset(demo: Demo) -> None:
    """A start with an explicit offset is converted to UTC, never relabelled; a bad term is refused."""
    operator = signed_in(demo, demo.operator)
    csrf = _csrf(operator.get("/operator/prices").text)
    form = {"csrf": csrf, "model": "H100", "product": "on-demand", "price": "3.21", "currency": "USD"}
    done = operator.post("/operator/prices", data={**form, "from": "2031-01-01T00:00+02:00"})
    assert done.status_code in (200, 303)
    starts = [p.start for p in demo.services.billing.prices() if p.per_gpu_hour == Decimal("3.21")]
    assert starts == [datetime(2030, 12, 31, 22, 0, tzinfo=UTC)]
    page = operator.post("/operator/prices", data={**form, "price": "3.22", "term_months": "twelve"})
    assert "term_months: a whole number of months" in page.text
    assert not [p for p in demo.services.billing.prices() if p.per_gpu_hour == Decimal("3.22")]

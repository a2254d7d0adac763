"""A tenant in a real browser: sign in, quote and reserve, see it on the calendar, extend, cancel,
download an invoice; another tenant can neither see nor reach any of it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from neocloud.control.app.views import ReservationRequest
from tests.browser.conftest import Site, shot, sign_in


def _reserve_in_browser(page: Any, url: str) -> str:
    page.goto(f"{url}/reservations")
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    page.select_option("select[name=model]", "H100")
    page.fill("input[name=gpus]", "8")
    page.fill("input[name=hours]", "6")
    page.fill("input[name=start]", start.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("select[name=shape]", "whole-nodes")
    page.click("#quote-button")
    quote = page.locator("#quote")
    assert quote.get_attribute("data-feasible") == "yes"
    assert re.search(r"\d[\d,]*\.\d\d USD", quote.locator(".price").inner_text())
    assert start.strftime("%Y-%m-%d %H:%M") in quote.locator(".earliest").inner_text()
    page.click("#reserve-button")
    page.wait_for_url(re.compile(r"/reservations/[^/]+$"))
    return page.url.rsplit("/", 1)[1]


def test_a_tenant_reserves_with_a_quote_sees_it_on_the_calendar_extends_cancels_and_downloads(
    site: Site, browse: Any, tmp_path: Path
) -> None:
    page, _ = browse()
    sign_in(page, site.url, site.demo.acme)
    assert page.locator(".whoami").inner_text().startswith("acme")
    shot(page, tmp_path, "overview")

    reservation = _reserve_in_browser(page, site.url)
    assert page.locator("#state").inner_text() == "scheduled"
    end_before = page.locator("#end").inner_text()

    page.goto(f"{site.url}/reservations")
    bar = page.locator(f'svg.gantt a[data-reservation="{reservation}"]')
    assert bar.count() == 1
    assert "H100 / default" in (page.locator("svg.gantt").text_content() or "")
    shot(page, tmp_path, "reservations")

    bar.click()
    page.wait_for_url(f"**/reservations/{reservation}")
    page.fill("input[name=hours]", "2")
    page.click("#extend-button")
    page.wait_for_load_state("load")
    end_after = page.locator("#end").inner_text()
    fmt = "%Y-%m-%d %H:%M UTC"
    assert datetime.strptime(end_after, fmt) - datetime.strptime(end_before, fmt) == timedelta(hours=2)

    page.click("#cancel-button")
    page.wait_for_load_state("load")
    assert page.locator("#state").inner_text() == "cancelled"
    found = site.demo.services.control.reservations.get_reservation(
        site.demo.services.control.tenancy.authenticate(site.demo.acme), reservation
    )
    assert found.state == "cancelled"

    for name in ("instances", "usage", "tokens"):
        page.goto(f"{site.url}/{name}")
        assert page.locator("h1").count() == 1
        shot(page, tmp_path, name)

    invoice = site.demo.world.invoice_of["acme"]
    page.goto(f"{site.url}/invoices")
    shot(page, tmp_path, "invoices")
    page.click(f'tr[data-invoice="{invoice}"] a[href="/invoices/{invoice}"]')
    page.wait_for_url(f"**/invoices/{invoice}")
    with page.expect_download() as got:
        page.click("#download-csv")
    csv_path = tmp_path / "invoice.csv"
    got.value.save_as(str(csv_path))
    text = csv_path.read_text()
    assert invoice in text and "H100" in text
    with page.expect_download() as got_html:
        page.click("#download-html")
    html_path = tmp_path / "invoice.html"
    got_html.value.save_as(str(html_path))
    assert invoice in html_path.read_text()


def test_another_tenant_can_neither_see_nor_reach_the_first_ones_objects(site: Site, browse: Any) -> None:
    control = site.demo.services.control
    acme = control.tenancy.authenticate(site.demo.acme)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=5)
    mine = control.reservations.reserve(acme, ReservationRequest("H100", 8, 3, start, "whole-nodes"))
    invoice = site.demo.world.invoice_of["acme"]

    page, _ = browse()
    sign_in(page, site.url, site.demo.globex)
    for path in ("/", "/reservations", "/instances", "/invoices", "/usage", "/tokens"):
        page.goto(site.url + path)
        html = page.content()
        assert mine.id not in html and invoice not in html and "acme" not in html, path
        assert acme.tenant_id is not None and acme.tenant_id not in html, path

    for path in (
        f"/reservations/{mine.id}",
        f"/invoices/{invoice}",
        f"/invoices/{invoice}/download?format=csv",
        f"/usage?tenant={acme.tenant_id}",
    ):
        response = page.goto(site.url + path)
        assert response is not None
        if path.startswith("/usage"):
            assert "acme" not in page.content()  # the tenant query is ignored for tenants: its own usage
            continue
        assert response.status == 404, path
        assert "acme" not in page.content()
    for path in (
        "/operator/fleet",
        "/operator/fleet/topology.json",
        "/operator/fleet/state.json",
        "/operator/nodes",
        "/operator/revenue",
        "/operator/tenants",
        "/operator/prices",
        "/operator/utilisation",
    ):
        response = page.goto(site.url + path)
        assert response is not None and response.status == 404, path

    # a form aimed at acme's reservation, with globex's own valid CSRF token: still a 404, nothing changes
    page.goto(f"{site.url}/reservations")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    for action, extra in (("cancel", {}), ("extend", {"hours": "2"})):
        response = page.request.post(
            f"{site.url}/reservations/{mine.id}/{action}",
            form={"csrf": csrf or "", **extra},
            headers={"Origin": site.url},
            max_redirects=0,
        )
        assert response.status == 404, action
    again = control.reservations.get_reservation(acme, mine.id)
    assert again.state == "scheduled" and again.end == mine.end

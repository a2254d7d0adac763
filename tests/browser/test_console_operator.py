"""The operator in a real browser: the fleet map renders every tray with its state and tenant, a tray
can be picked from the map, and the revenue charts show the demo's finished month."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.browser.conftest import Site, shot, sign_in


def test_the_fleet_map_draws_every_tray_and_names_the_tenant_of_a_held_one(
    site: Site, browse: Any, tmp_path: Path
) -> None:
    page, _ = browse()
    sign_in(page, site.url, site.demo.operator)
    assert page.url.endswith("/operator/fleet")
    page.wait_for_selector("#fleetmap[data-rendered=yes]")
    nodes = site.demo.services.control.deps.uow
    with nodes(read_only=True) as uow:
        count = len(uow.nodes())
    summary = page.locator("#map-summary").inner_text()
    assert summary.startswith(f"{count} trays")
    shot(page, tmp_path, "fleet-map")

    # the GB200 rack acme holds (the demo's whole-nvl72 reservation): pick one of its trays on the map
    held = site.demo.services.control.fleet.list_nodes(
        site.demo.services.control.tenancy.authenticate(site.demo.acme)
    ).items
    tray = next(n for n in held if n.model == "GB200")
    page.goto(f"{site.url}/operator/fleet?node={tray.id}")
    page.wait_for_selector("#fleetmap[data-rendered=yes]")
    assert page.locator("#panel-title").inner_text() == tray.id
    assert "acme" in page.locator("#panel-tenant").inner_text()
    assert page.locator("#panel-state").inner_text() in ("reserved", "spot", "on-demand")

    # hovering over the selected tray names its tenant in the tooltip
    box = page.locator("#fleetmap").bounding_box()
    assert box is not None
    page.locator("#map-panel").scroll_into_view_if_needed()
    page.click("[data-zoom=out]")
    page.mouse.move(box["x"] + 3, box["y"] + 24)
    tip = page.locator("#map-tip")
    assert tip.is_visible() and "GPUs held" in tip.inner_text()


def test_revenue_charts_show_the_demos_finished_month(site: Site, browse: Any, tmp_path: Path) -> None:
    page, _ = browse()
    sign_in(page, site.url, site.demo.operator)
    page.goto(f"{site.url}/operator/revenue")
    month = site.demo.world.past_month
    assert month is not None
    bar = page.locator(f'svg[data-chart="revenue-month"] g.bar[data-label="{month}"]')
    assert bar.count() == 1
    assert Decimal(bar.get_attribute("data-value") or "0") > 0
    for chart in ("revenue-product", "revenue-model", "revenue-tenant", "revenue-mw"):
        assert page.locator(f'svg[data-chart="{chart}"] g.bar').count() >= 1, chart
    tenants = page.locator('svg[data-chart="revenue-tenant"]').text_content() or ""
    assert "acme" in tenants and "globex" in tenants
    shot(page, tmp_path, "revenue")
    for name in ("nodes", "tenants", "prices", "utilisation"):
        page.goto(f"{site.url}/operator/{name}")
        assert page.locator("h1").count() == 1
        shot(page, tmp_path, f"operator-{name}")
    assert page.locator('svg[data-chart="utilisation"] polyline').count() == 3


def test_the_operator_drains_a_node_from_the_map_and_sees_its_state_change(
    site: Site, browse: Any, tmp_path: Path
) -> None:
    control = site.demo.services.control
    with control.deps.uow(read_only=True) as uow:
        states = uow.node_states()
        free = next(
            n.id
            for n in sorted(uow.nodes(), key=lambda n: n.id)
            if n.model == "H100" and states.get(n.id, "ready") == "ready"
        )
    page, _ = browse()
    sign_in(page, site.url, site.demo.operator)
    page.goto(f"{site.url}/operator/fleet?node={free}")
    page.wait_for_selector("#fleetmap[data-rendered=yes]")
    assert page.locator("#panel-title").inner_text() == free
    assert page.locator("#panel-state").inner_text() == "free"
    page.click("#panel-drain")
    page.wait_for_url(f"**/operator/fleet?node={free}")
    page.wait_for_selector("#fleetmap[data-rendered=yes]")
    assert page.locator("#panel-title").inner_text() == free
    drained = page.locator("#panel-state").inner_text()
    assert drained in ("draining", "out-of-service"), drained
    assert f"node {free} is {drained}" in page.locator(".flash").inner_text()
    with control.deps.uow(read_only=True) as uow:
        assert uow.node_states()[free] == drained
    shot(page, tmp_path, "fleet-map-drained")

    page.goto(f"{site.url}/operator/nodes/{free}")
    assert page.locator("#node-state").inner_text() == drained
    assert "draining" in page.locator("main").inner_text()  # the lifecycle event is listed

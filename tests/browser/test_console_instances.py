"""Instances in a real browser: a spot instance under a preemption notice counts down on the page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from neocloud.control.app.views import InstanceRequest
from tests.browser.conftest import Site, shot, sign_in


def test_a_spot_instance_under_notice_counts_down_to_its_preemption(
    site: Site, browse: Any, tmp_path: Path
) -> None:
    control = site.demo.services.control
    operator = control.tenancy.authenticate(site.demo.operator)
    acme = control.tenancy.authenticate(site.demo.acme)
    assert acme.tenant_id is not None
    control.tenancy.set_quota(operator, acme.tenant_id, "H100", 10_000)
    free = [
        n
        for n in control.fleet.list_nodes(operator).items
        if n.model == "H100" and n.state == "ready" and not any(n.gpu_allocations)
    ]
    control.instances.create_instance(acme, InstanceRequest("H100", len(free) + 1))  # needs the spot's nodes
    globex = control.tenancy.authenticate(site.demo.globex)
    spot = next(i for i in control.instances.list_instances(globex).items if i.spot and i.notice_until)

    page, _ = browse()
    sign_in(page, site.url, site.demo.globex)
    page.goto(f"{site.url}/instances")
    countdown = page.locator(f'tr[data-instance="{spot.id}"] .countdown')
    first = countdown.inner_text()
    assert re.fullmatch(r"preempted in \d+:\d\d", first), first
    page.wait_for_function(
        "([sel, before]) => document.querySelector(sel).textContent !== before",
        arg=[f'tr[data-instance="{spot.id}"] .countdown', first],
    )
    assert countdown.inner_text() != first
    shot(page, tmp_path, "instances-countdown")

"""Forms refuse a missing or invalid CSRF token; the session cookie is HttpOnly and SameSite=Strict, and
a page on another site that posts a form to the console (or loads from it) never carries it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from tests.browser.conftest import Site, sign_in
from tests.browser.demo_world import serving


def _tokens(site: Site) -> int:
    control = site.demo.services.control
    acme = control.tenancy.authenticate(site.demo.acme)
    return control.tenancy.list_tokens(acme).total


def test_forms_refuse_a_missing_or_invalid_csrf_token(site: Site, browse: Any) -> None:
    page, _ = browse()
    sign_in(page, site.url, site.demo.acme)
    page.goto(f"{site.url}/tokens")
    before = _tokens(site)
    for value in (None, "", "not-the-token"):
        page.goto(f"{site.url}/tokens")
        if value is None:
            page.evaluate("document.querySelector('form[action=\"/tokens\"] input[name=csrf]').remove()")
        else:
            page.evaluate(
                "v => document.querySelector('form[action=\"/tokens\"] input[name=csrf]').value = v", value
            )
        with page.expect_navigation():
            page.click("#create-token")
        assert "CSRF" in page.content()
        assert page.locator("#secret").count() == 0
    assert _tokens(site) == before
    page.goto(f"{site.url}/tokens")
    page.click("#create-token")
    page.wait_for_load_state("load")
    assert page.locator("#secret").count() == 1, page.locator("main").inner_text()
    assert _tokens(site) == before + 1

    # sign-in itself: without the double-submitted token it is refused
    fresh, _ = browse()
    fresh.goto(f"{site.url}/signin")
    fresh.evaluate("document.querySelector('input[name=csrf]').value = 'forged'")
    fresh.fill("input[name=token]", site.demo.acme)
    with fresh.expect_navigation():
        fresh.click("button[type=submit]")
    assert "CSRF" in fresh.content()
    assert not [c for c in fresh.context.cookies() if c["name"] == "nc_session"]


ATTACK = """<!doctype html><html><body>
<img id="probe" src="{target}/tokens">
<form id="f" method="post" action="{target}/tokens">
<input name="role" value="tenant-member"><input name="csrf" value="guess"></form>
<script>window.addEventListener("load", function () {{ document.getElementById("f").submit(); }});</script>
</body></html>"""


@pytest.fixture
def other_site(site: Site) -> Iterator[str]:
    """A page on another site (localhost is not the site 127.0.0.1) that attacks the console."""
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def attack() -> str:
        return ATTACK.format(target=site.url)

    with serving(app, host="127.0.0.1") as url:
        yield url.replace("127.0.0.1", "localhost")


def test_the_session_cookie_is_never_sent_cross_site(site: Site, browse: Any, other_site: str) -> None:
    page, recorded = browse(allowed=frozenset({"127.0.0.1", "localhost"}))
    sign_in(page, site.url, site.demo.acme)
    cookie = next(c for c in page.context.cookies() if c["name"] == "nc_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("nc_session") == -1  # HttpOnly: no script reads it
    before = _tokens(site)

    page.goto(other_site)
    page.wait_for_url(f"{site.url}/**")
    page.wait_for_load_state("load")
    assert "/signin" in page.url  # the console saw no session: the forged post went to the sign-in page
    assert _tokens(site) == before
    from_attack = [(u, h) for u, h in recorded.headers if u.startswith(site.url + "/tokens")]
    assert len(from_attack) >= 2  # the image probe and the form post
    assert all("nc_session" not in h.get("cookie", "") for _, h in from_attack)

    # the same browser, back on the console's own site, is still signed in
    page.goto(f"{site.url}/tokens")
    assert "/signin" not in page.url

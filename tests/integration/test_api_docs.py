"""/docs works without a network: the page names only assets the API serves itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from neocloud.api.app import create_app
from neocloud.bootstrap import Settings, build_services


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value is not None]


def _docs() -> tuple[TestClient, str]:
    http = TestClient(create_app(build_services(Settings(database_url="memory"))))
    page = http.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    return http, page.text


def test_docs_page_loads_every_script_and_stylesheet_from_the_api_itself() -> None:
    http, html = _docs()
    parser = _Urls()
    parser.feed(html)
    assert len(parser.urls) >= 3  # the favicon, the stylesheet, the script
    assert all(url.startswith("/") and not url.startswith("//") for url in parser.urls), parser.urls
    for url in parser.urls:
        r = http.get(url)
        assert r.status_code == 200 and r.content, url


def test_docs_page_names_no_other_host() -> None:
    _, html = _docs()
    assert not re.search(r"https?://", html)


def test_the_spec_the_docs_page_loads_is_served() -> None:
    http, html = _docs()
    spec = re.search(r"url: '([^']+)'", html)
    assert spec is not None and spec.group(1) == "/openapi.json"
    assert "/v1/reservations" in http.get(spec.group(1)).json()["paths"]

"""Playwright over Debian's chromium (/usr/bin/chromium, installed by `make system-deps`): the PyPI
`playwright` package ships its driver, and no browser is ever downloaded. A missing chromium fails the
run (launching it raises), never skips it.

`demo` is the demo's world served by a real uvicorn on 127.0.0.1 (one per test module); `browse` opens
a browser context that records every request it makes, and the test fails if any left 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.demo_world import Demo, build_demo, serving

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


class Site:
    """The demo behind a URL."""

    def __init__(self, demo: Demo, url: str) -> None:
        self.demo = demo
        self.url = url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    demo = build_demo(tmp_path_factory.mktemp("demo"))
    try:
        with serving(demo.app) as url:
            yield Site(demo, url)
    finally:
        demo.services.close()


class Recorded:
    def __init__(self) -> None:
        self.urls: list[str] = []
        self.headers: list[tuple[str, dict[str, str]]] = []

    def hosts(self) -> set[str]:
        return {
            urlsplit(u).hostname or "" for u in self.urls if not u.startswith(("data:", "blob:", "about:"))
        }


@pytest.fixture
def browse(browser: Any, tmp_path: Path) -> Iterator[Callable[..., tuple[Any, Recorded]]]:
    """browse() → (page, recorded) in a fresh context (its own cookie jar); dialogs are accepted; every
    request is recorded, and at the end every one must have stayed on 127.0.0.1."""
    contexts: list[tuple[Any, Recorded, set[str]]] = []

    def open_(allowed: frozenset[str] = frozenset({"127.0.0.1"})) -> tuple[Any, Recorded]:
        context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
        recorded = Recorded()

        def on_request(request: Any) -> None:
            recorded.urls.append(request.url)
            recorded.headers.append((request.url, request.headers))

        context.on("request", on_request)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        contexts.append((context, recorded, set(allowed)))
        return page, recorded

    yield open_
    for context, recorded, allowed in contexts:
        context.close()
        assert recorded.urls, "the browser made no request at all"
        assert recorded.hosts() <= allowed, f"requests left 127.0.0.1: {sorted(recorded.hosts() - allowed)}"


def sign_in(page: Any, url: str, token: str) -> None:
    page.goto(f"{url}/signin")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "/signin" not in page.url, page.content()[:500]


def shot(page: Any, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot as a test artifact in the test's temporary directory."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000
    return path

"""Portal fixtures: a hub on SQLite over loopback and Debian's Chromium driven by Playwright.

Chromium is started with the flags this sandbox needs (no background networking: the machine
has no internet). Set REDRESS_CHROMIUM to use another binary. Without one the browser tests skip,
except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from tests.conftest import unavailable
from tests.hub.conftest import RunningHub, _migrate, hub_settings, serve

CHROMIUM = Path(os.environ.get("REDRESS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
NEUTRAL = "https://neutral.example/weather"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        unavailable(
            f"Chromium not found at {CHROMIUM}",
            "apt-get install chromium (.ci/run does) or set REDRESS_CHROMIUM to a Chromium binary",
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """A hub for browser tests (SQLite; the same services run on PostgreSQL in tests/hub)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('portal') / 'hub.db'}"
    _migrate(url)
    yield from serve(hub_settings(url, quick_exit_url=NEUTRAL))


def new_context(browser: Browser, locale: str = "en-GB", **options: Any) -> BrowserContext:
    """A fresh browser profile whose requests to the neutral site are answered locally (there is
    no internet here); everything else goes where the page sends it."""
    context = browser.new_context(locale=locale, accept_downloads=True, **options)

    def neutral(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<title>Weather</title>Sunny")

    context.route(NEUTRAL, neutral)
    return context


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = new_context(browser)
    opened = context.new_page()
    yield opened
    context.close()

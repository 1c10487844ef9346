"""Layout: right-to-left Arabic mirrors the page; 320 px wide and 200 % zoom need no sideways
scrolling. Screenshots go to tmp (or to docs/screenshots with REDRESS_UPDATE_SCREENSHOTS=1, for
the README) so a person can look at them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.conftest import REPO
from tests.hub.conftest import RunningHub
from tests.portal.conftest import new_context

pytestmark = pytest.mark.browser
PAGES = ("/", "/submit", "/status", "/support")


def _shots(tmp_path: Path) -> Path:
    if os.environ.get("REDRESS_UPDATE_SCREENSHOTS") == "1":
        target = REPO / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path


def test_arabic_is_right_to_left(browser: Browser, portal: RunningHub, tmp_path: Path) -> None:
    context = new_context(browser, locale="ar-EG", viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.goto(portal.url + "/")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
    brand = page.locator(".brand").bounding_box()
    exit_button = page.locator("#quick-exit").bounding_box()
    assert brand is not None and exit_button is not None
    assert brand["x"] > exit_button["x"], "the name should sit on the right in Arabic"
    heading = page.locator("h1").bounding_box()
    main = page.locator("main").bounding_box()
    assert heading is not None and main is not None
    assert heading["x"] + heading["width"] > main["x"] + main["width"] - 40  # right-aligned
    page.screenshot(path=str(_shots(tmp_path) / "portal-ar.png"), full_page=True)
    context.close()


@pytest.mark.parametrize(
    ("name", "viewport", "scale"),
    [("320px", {"width": 320, "height": 720}, 1), ("zoom200", {"width": 640, "height": 400}, 2)],
)
def test_small_screens_and_zoom_need_no_sideways_scrolling(
    browser: Browser,
    portal: RunningHub,
    tmp_path: Path,
    name: str,
    viewport: dict[str, int],
    scale: int,
) -> None:
    # 200 % zoom of a 1280 x 800 window lays the page out in 640 x 400 CSS pixels.
    context = new_context(browser, viewport=viewport, device_scale_factor=scale)
    page = context.new_page()
    shots = _shots(tmp_path)
    for path in PAGES:
        page.goto(portal.url + path)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at {name}"
        slug = path.strip("/") or "home"
        page.screenshot(path=str(shots / f"portal-{slug}-{name}.png"), full_page=True)
    context.close()

"""The quick exit in Chromium ends the sign-in on the server: with JavaScript (a beacon as the
page leaves for the neutral site) and without (the link goes through the hub's /exit)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.agent.conftest import wait_for
from tests.hub.conftest import RunningHub, pdq
from tests.portal.conftest import NEUTRAL, new_context

pytestmark = pytest.mark.browser


def _signed_in(context: BrowserContext, portal: RunningHub, value: str) -> tuple[Page, str]:
    case = portal.create_case([pdq(value)])
    page = context.new_page()
    page.goto(portal.url + "/status")
    page.fill("#case_number", case["case_number"])
    page.fill("#pin", case["pin"])
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("ul.items")
    (cookie,) = [c["value"] for c in context.cookies() if c["name"] == "redress_case"]
    return page, cookie


def _replay(portal: RunningHub, cookie: str) -> int:
    with httpx.Client(base_url=portal.url, timeout=30) as other:
        other.cookies.set("redress_case", cookie)
        return other.get("/status/case").status_code


@pytest.mark.parametrize("how", ["escape", "click"])
def test_quick_exit_with_javascript_ends_the_session(
    browser: Browser, portal: RunningHub, how: str
) -> None:
    context = new_context(browser)
    value = "ab" * 31 + ("01" if how == "escape" else "02")
    page, cookie = _signed_in(context, portal, value)
    assert _replay(portal, cookie) == 200

    sent: list[str] = []
    context.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    if how == "escape":
        page.keyboard.press("Escape")
    else:
        page.click("#quick-exit")
    page.wait_for_url(NEUTRAL)  # left at once, without waiting for the hub
    assert sent == [portal.url + "/exit"]  # the beacon went out
    # The beacon is answered after the page has gone: wait (bounded) for the hub to end it.
    wait_for(lambda: _replay(portal, cookie) == 401, 10, "the beacon to end the session")
    context.close()


def test_quick_exit_without_javascript_ends_the_session(
    browser: Browser, portal: RunningHub
) -> None:
    context = new_context(browser, java_script_enabled=False)
    page, cookie = _signed_in(context, portal, "cd" * 32)
    page.click("#quick-exit")
    page.wait_for_url(NEUTRAL)
    assert _replay(portal, cookie) == 401
    assert not [c for c in context.cookies() if c["name"] == "redress_case"]
    context.close()

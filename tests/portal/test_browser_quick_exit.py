"""The quick exit in Chromium ends the sign-in on the server before the page leaves: with
JavaScript (a POST to /exit, then the neutral site replaces the page) and without (the link goes
through the hub's GET /exit). After it, Back and a new tab land nowhere near the case, in English
and Arabic; Esc on the credentials page asks first; the button stays on a phone's screen."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page

from tests.hub.conftest import RunningHub, pdq
from tests.portal.conftest import NEUTRAL, new_context
from tests.portal.helpers import axe_violations, choose_files, distinctive_photos, wait_hashed

pytestmark = pytest.mark.browser


LOCALES = ["en-GB", "ar"]


def _signed_in(context: BrowserContext, portal: RunningHub, value: str) -> tuple[Page, str]:
    page, cookie, _number = _signed_in_case(context, portal, value)
    return page, cookie


def _signed_in_case(
    context: BrowserContext, portal: RunningHub, value: str
) -> tuple[Page, str, str]:
    case = portal.create_case([pdq(value)])
    page = context.new_page()
    page.goto(portal.url + "/status")
    page.fill("#case_number", case["case_number"])
    page.fill("#pin", case["pin"])
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("ul.items")
    (cookie,) = [c["value"] for c in context.cookies() if c["name"] == "redress_case"]
    return page, cookie, str(case["case_number"])


def _replay(portal: RunningHub, cookie: str) -> int:
    return _replayed(portal, cookie).status_code


def _replayed(portal: RunningHub, cookie: str) -> httpx.Response:
    with httpx.Client(base_url=portal.url, timeout=30) as other:
        other.cookies.set("redress_case", cookie)
        return other.get("/status/case")


def _signed_out(page: Page, case_number: str) -> None:
    """The page shows the sign-in form and nothing of the case."""
    page.wait_for_selector("#pin")
    html = page.content()
    assert case_number not in html
    assert page.locator("ul.items").count() == 0
    assert page.locator("form[action='/status/contact']").count() == 0


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
    order: list[str] = []  # the hub's answer to /exit arrives before the page leaves
    context.on("response", lambda r: order.append("ended") if r.url.endswith("/exit") else None)
    context.on("request", lambda r: order.append("left") if r.url == NEUTRAL else None)
    if how == "escape":
        page.keyboard.press("Escape")
    else:
        page.click("#quick-exit")
    page.wait_for_url(NEUTRAL)
    assert sent == [portal.url + "/exit"]  # the hub was told
    assert order == ["ended", "left"]
    # The page waited for the hub's answer before leaving: the session is over already.
    assert _replay(portal, cookie) == 401
    assert not [c for c in context.cookies() if c["name"] == "redress_case"]
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


@pytest.mark.parametrize("locale", LOCALES)
def test_after_quick_exit_back_and_a_new_tab_find_no_case(
    browser: Browser, portal: RunningHub, locale: str
) -> None:
    context = new_context(browser, locale=locale)
    value = "e1" * 31 + ("01" if locale == "ar" else "02")
    page, cookie, number = _signed_in_case(context, portal, value)
    # A second case-page entry in the history (as after saving an email address), so that Back
    # from the neutral site (which replaced this one) has a case page to return to.
    case_url = portal.url + "/status/case?notice=contact_set"
    shown = page.goto(case_url)
    assert shown is not None and shown.headers["cache-control"] == "no-store"
    assert number in page.content()
    assert page.locator("html").get_attribute("lang") == locale[:2]

    page.click("#quick-exit")
    page.wait_for_url(NEUTRAL)
    page.go_back()
    assert page.url == portal.url + "/status/case"  # the first case page's entry
    # Loaded afresh by Back, not the old document from the back/forward cache (whose navigation
    # entry would still say "navigate"): Chromium keeps no-store pages out of that cache.
    assert page.evaluate("() => performance.getEntriesByType('navigation')[0].type") == (
        "back_forward"
    )
    _signed_out(page, number)  # asked afresh (no-store, not from the back/forward cache)
    assert axe_violations(page) == []

    tab = context.new_page()
    tab.goto(portal.url + "/status/case")
    _signed_out(tab, number)

    replayed = _replayed(portal, cookie)  # the cookie, kept, is worth nothing
    assert replayed.status_code == 401
    assert number not in replayed.text
    assert 'id="pin"' in replayed.text
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_back_after_quick_exit_does_not_bring_back_the_create_page(
    browser: Browser, portal: RunningHub, locale: str, tmp_path: Path
) -> None:
    context = new_context(browser, locale=locale)
    page = context.new_page()
    page.goto(portal.url + "/submit")
    choose_files(page, distinctive_photos(tmp_path, 1))
    wait_hashed(page, 1)
    assert page.locator(".thumb").count() == 1
    page.click("footer a[href='/support']")
    page.wait_for_url(portal.url + "/support")
    page.click("#quick-exit")
    page.wait_for_url(NEUTRAL)
    page.go_back()
    page.wait_for_url(portal.url + "/submit")
    page.wait_for_function("() => window.redressPortal !== undefined")
    assert page.evaluate("() => window.redressPortal.entries.length") == 0
    assert page.locator(".thumb").count() == 0
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_escape_on_the_credentials_page_asks_first(
    browser: Browser, portal: RunningHub, locale: str, tmp_path: Path
) -> None:
    context = new_context(browser, locale=locale)
    page = context.new_page()
    page.goto(portal.url + "/submit")
    choose_files(page, distinctive_photos(tmp_path, 1))
    wait_hashed(page, 1)
    page.check("#agree")
    page.click("#send")
    page.wait_for_selector("#case-number")
    number = page.inner_text("#case-number")
    credentials_url = page.url
    question = page.get_attribute("#quick-exit", "data-confirm-escape")
    assert question

    asked: list[str] = []

    def decline(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.documentElement.hidden === false")
    assert asked == [question]  # in the page's language, from the catalogue
    assert page.url == credentials_url
    assert page.inner_text("#case-number") == number  # still there: leaving was cancelled
    assert axe_violations(page) == []

    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL)
    context.close()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("width", "height"), [(360, 640), (1280, 800)])
def test_quick_exit_stays_on_screen(
    browser: Browser, portal: RunningHub, locale: str, width: int, height: int
) -> None:
    context = new_context(browser, locale=locale, viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(portal.url + "/")
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("() => window.scrollY > 0")
    box = page.locator("#quick-exit").bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert box["y"] >= 0 and box["y"] + box["height"] <= height
    if width < 640:  # a phone: in the lower half, where the thumb is
        assert box["y"] >= height / 2
    assert page.evaluate(
        "() => { const r = document.getElementById('quick-exit').getBoundingClientRect();"
        " return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)"
        ".closest('#quick-exit') !== null; }"
    )  # on top, not covered
    assert axe_violations(page) == []
    page.click("#quick-exit")
    page.wait_for_url(NEUTRAL)
    context.close()

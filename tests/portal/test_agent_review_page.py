"""The moderator page in Chromium: keyboard-only sign-in and decision, axe-core WCAG 2.2 AA,
and the page in another language."""

from __future__ import annotations

import numpy as np
import pytest

from redress.agent.config import HubConfig
from tests.agent.conftest import TOKEN
from tests.agent.test_agent_features import run_agent
from tests.portal.conftest import new_context
from tests.portal.helpers import axe_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["en-GB", "ar"])
def test_review_page_by_keyboard_with_no_accessibility_violations(
    portal, tmp_path, browser, locale
):
    value = np.random.default_rng(3).bytes(32).hex()
    portal.create_case([{"type": "pdq", "value": value}])
    with run_agent(
        tmp_path, [HubConfig("hub", portal.url, portal.participant(f"P-{locale}"))]
    ) as running:
        running.wait_ready()
        body = {"signals": [{"type": "pdq", "value": value}], "content_id": "post-1"}
        assert running.client.post("/v1/check", json=body).json()["decision"] == "review"
        context = new_context(browser, locale=locale)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{running.url}/review")
        assert axe_violations(page) == []
        if locale == "ar":
            assert page.locator("html").get_attribute("dir") == "rtl"
            assert page.locator("h1").inner_text() == "مراجعة المطابقات المعلّقة"
        page.keyboard.press("Tab")
        page.keyboard.type("Sam")
        page.keyboard.press("Tab")
        page.keyboard.type(TOKEN)
        page.keyboard.press("Enter")
        page.locator("table caption").wait_for()
        assert "post-1" in page.locator("tbody").inner_text()
        assert axe_violations(page) == []
        confirm = page.locator("button[value=Blocked]")
        for _ in range(10):  # tab to the first decision button
            page.keyboard.press("Tab")
            if confirm.evaluate("b => b === document.activeElement"):
                break
        page.keyboard.press("Enter")
        page.locator("table").wait_for(state="detached")
        assert axe_violations(page) == []
        assert errors == []
        context.close()
        decided = running.client.get("/v1/reviews", params={"status": "blocked"}).json()
        assert decided["reviews"][0]["decided_by"] == "Sam"

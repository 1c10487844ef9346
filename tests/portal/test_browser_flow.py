"""The survivor's whole journey in a real Chromium: choose files, hash them on the device, send
only hashes, get a case number and PIN, check the case, withdraw; in English and in Spanish,
with the keyboard alone, with every request recorded (the privacy proof), axe on every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request

from tests.hub.conftest import RunningHub
from tests.portal.conftest import NEUTRAL, new_context
from tests.portal.helpers import (
    axe_violations,
    choose_files,
    distinctive_photos,
    leaked_runs,
    tab_to,
    wait_hashed,
)

pytestmark = pytest.mark.browser


def _video(reference: Path) -> Path:
    return reference / "vpdq" / "videos" / "chair-19-sd-bar.mp4"


def _create_case(page: Page, portal: RunningHub, files: list[Path]) -> tuple[str, str]:
    page.goto(portal.url + "/submit")
    choose_files(page, files)
    wait_hashed(page, len(files))
    page.check("#agree")
    page.click("#send")
    page.wait_for_selector("#case-number")
    return page.inner_text("#case-number"), page.inner_text("#pin")


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en-GB", {"created": "Your case was created", "matched": "No platform has reported"}),
        ("es-ES", {"created": "Se ha creado tu caso", "matched": "Ninguna plataforma"}),
    ],
)
def test_whole_flow(
    browser: Browser,
    portal: RunningHub,
    reference: Path,
    tmp_path: Path,
    locale: str,
    words: dict[str, str],
) -> None:
    context = new_context(browser, locale=locale)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(portal.url + "/")
    assert page.locator("html").get_attribute("lang") == locale[:2]
    page.click("a.button.primary")
    assert page.url.endswith("/submit")
    photos = distinctive_photos(tmp_path)
    choose_files(page, [*photos, _video(reference)])
    wait_hashed(page, 3)
    states = page.evaluate("() => window.redressPortal.entries.map(e => e.state)")
    assert states == ["ready", "ready", "ready"]
    # Each picture: its hash plus 13 variants; the video: vPDQ, MD5 and SHA-256.
    counts = page.evaluate(
        "() => window.redressPortal.entries.map(e => e.result.signals.map(s => s.type).join())"
    )
    assert counts[0] == ",".join(["pdq"] * 14)
    assert counts[2] == "vpdq,md5,sha256"
    assert "3" in page.inner_text("#review-text")
    page.check("#agree")
    page.click("#send")
    page.wait_for_selector("#case-number")
    assert words["created"] in page.inner_text("h1")
    case_number, pin = page.inner_text("#case-number"), page.inner_text("#pin")
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", case_number)
    assert re.fullmatch(r"\d{8}", pin)
    with page.expect_download() as download:
        page.click("#download")
    saved = Path(download.value.path()).read_text()
    assert case_number in saved and pin in saved

    # The hub holds exactly what the page made: 3 items, all active.
    status = portal.client.post(f"/v1/cases/{case_number}/status", json={"pin": pin}).json()
    assert [item["signals"] for item in status["items"]] == [14, 14, 3]

    page.goto(portal.url + "/status")
    page.fill("#case_number", case_number.lower())  # typed in any case
    page.fill("#pin", pin)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("ul.items")
    assert page.locator("li.item").count() == 3
    assert words["matched"] in page.inner_text("#item-1")
    page.click("#item-2 a.button")
    page.click("form.actions button.danger")
    page.wait_for_selector(".notice.success")
    status = portal.client.post(f"/v1/cases/{case_number}/status", json={"pin": pin}).json()
    assert [item["status"] for item in status["items"]] == ["active", "withdrawn", "active"]
    assert errors == []
    context.close()


def test_privacy_no_request_leaves_the_hub_or_carries_file_bytes(
    browser: Browser, portal: RunningHub, reference: Path, tmp_path: Path
) -> None:
    context = new_context(browser)
    requests: list[Request] = []
    context.on("request", lambda request: requests.append(request))
    page = context.new_page()
    files = [*distinctive_photos(tmp_path), _video(reference)]
    page.goto(portal.url + "/")
    page.click("a.button.primary")
    choose_files(page, files)
    wait_hashed(page, len(files))
    page.check("#agree")
    page.click("#send")
    page.wait_for_selector("#case-number")
    case_number, pin = page.inner_text("#case-number"), page.inner_text("#pin")
    page.goto(portal.url + "/status")
    page.fill("#case_number", case_number)
    page.fill("#pin", pin)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("ul.items")
    context.close()

    assert len(requests) > 10
    posts = [r for r in requests if r.method == "POST"]
    assert len(posts) == 2  # the hashes, then the sign-in
    secrets = [f.read_bytes() for f in files]
    for request in requests:
        assert request.url.startswith((portal.url + "/", "blob:")), request.url
        body = request.post_data_buffer or b""
        for secret in secrets:
            for sent in (request.url.encode(), body):
                leak = leaked_runs(sent, secret)
                assert leak is None, f"{request.url} carried bytes of a file ({leak})"
    # The hashes did arrive, so the recording saw the real submission.
    assert b"pdq" in (posts[0].post_data_buffer or b"")


def test_keyboard_alone(browser: Browser, portal: RunningHub, tmp_path: Path) -> None:
    context = new_context(browser)
    page = context.new_page()
    photo = distinctive_photos(tmp_path, 1)
    page.goto(portal.url + "/")
    tab_to(page, "a.button.primary")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    page.wait_for_url("**/submit")
    tab_to(page, "#files")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files([str(p) for p in photo])
    wait_hashed(page, 1)
    tab_to(page, "#agree")
    page.keyboard.press("Space")
    assert page.is_checked("#agree")
    tab_to(page, "#send")
    page.keyboard.press("Enter")
    page.wait_for_selector("#case-number")
    case_number, pin = page.inner_text("#case-number"), page.inner_text("#pin")
    tab_to(page, "main a.button.primary")
    page.keyboard.press("Enter")
    page.wait_for_url("**/status")
    tab_to(page, "#case_number")
    page.keyboard.type(case_number)
    page.keyboard.press("Tab")
    page.keyboard.type(pin)
    page.keyboard.press("Enter")
    page.wait_for_selector("ul.items")
    tab_to(page, "a[href='/status/withdraw']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/status/withdraw")
    tab_to(page, "form.actions button.danger")
    page.keyboard.press("Enter")
    page.wait_for_selector(".notice.success")
    status = portal.client.post(f"/v1/cases/{case_number}/status", json={"pin": pin}).json()
    assert status["status"] == "withdrawn"
    context.close()


def test_quick_exit_leaves_no_way_back(browser: Browser, portal: RunningHub) -> None:
    context = new_context(browser)
    page = context.new_page()
    page.goto("about:blank")
    page.goto(portal.url + "/support")
    page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL)
    page.go_back()
    assert not page.url.startswith(portal.url)
    page.goto(portal.url + "/")
    page.click("#quick-exit")
    page.wait_for_url(NEUTRAL)
    context.close()


def test_undecodable_and_not_media_files_are_explained(
    browser: Browser, portal: RunningHub, tmp_path: Path
) -> None:
    import pillow_heif

    from tests.conftest import textured_image

    pillow_heif.register_heif_opener()
    heic = tmp_path / "IMG_0001.HEIC"
    textured_image(400, 300, seed=9).save(heic, format="HEIF")
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    flat = tmp_path / "flat.png"
    from PIL import Image

    Image.new("RGB", (300, 300), (40, 90, 160)).save(flat)
    context = new_context(browser)
    page = context.new_page()
    page.goto(portal.url + "/submit")
    choose_files(page, [heic, text, flat])
    wait_hashed(page, 3)
    messages = page.locator(".file-list .state.problem").all_inner_texts()
    assert "JPEG" in messages[0] and "HEIC" in messages[0]
    assert "not a picture or a video" in messages[1]
    assert "too plain" in messages[2]
    # Nothing can be sent: the page says so instead of posting.
    page.check("#agree")
    page.click("#send")
    assert page.is_visible("#send-problem")
    assert page.url.endswith("/submit")
    context.close()


def test_axe_finds_nothing_on_any_page(
    browser: Browser, portal: RunningHub, tmp_path: Path
) -> None:
    found: dict[str, list[str]] = {}
    for locale in ("en-GB", "ar"):
        context = new_context(browser, locale=locale)
        page = context.new_page()

        def check(state: str, page: Page = page, locale: str = locale) -> None:
            # A click that navigates returns once the new page is committed: let its stylesheet
            # load first, or axe measures unstyled targets (a flaky target-size finding).
            page.wait_for_load_state("load")
            violations = axe_violations(page)
            if violations:
                found[f"{locale} {state}"] = violations

        for path in ("/", "/support", "/status", "/submit"):
            page.goto(portal.url + path)
            check(path)
        choose_files(page, distinctive_photos(tmp_path, 1))
        text = tmp_path / "notes.txt"
        text.write_text("x")
        choose_files(page, [text])
        wait_hashed(page, 2)
        page.click("summary")
        check("/submit with files")
        page.check("#agree")
        page.click("#send")
        page.wait_for_selector("#case-number")
        check("credentials")
        case_number, pin = page.inner_text("#case-number"), page.inner_text("#pin")
        page.goto(portal.url + "/status")
        page.fill("#case_number", case_number)
        page.fill("#pin", "00000000")
        page.click("form.stack button[type=submit]")
        page.wait_for_selector("#form-error")
        check("wrong PIN")
        page.fill("#pin", pin)
        page.click("form.stack button[type=submit]")
        page.wait_for_selector("ul.items")
        check("case")
        page.click("#item-1 a.button")
        check("confirm withdraw")
        page.click("form.actions button.danger")
        check("after withdraw")
        context.close()
    assert found == {}

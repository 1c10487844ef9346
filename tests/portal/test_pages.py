"""Portal pages over plain HTTP: headers, CSRF, sign-in errors, languages, support page."""

from __future__ import annotations

import re

from tests.hub.conftest import RunningHub, pdq


def test_pages_are_private_and_strict(portal: RunningHub) -> None:
    for path in ("/", "/submit", "/status", "/support"):
        response = portal.client.get(path)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert response.headers["cache-control"] == "no-store"
        assert "<script>" not in response.text  # no inline script anywhere


def test_forms_without_the_csrf_token_change_nothing(portal: RunningHub) -> None:
    created = portal.create_case([pdq()])
    response = portal.client.post(
        "/status", data={"case_number": created["case_number"], "pin": created["pin"]}
    )
    assert response.status_code == 403
    assert "expired" in response.text
    assert "redress_case" not in response.cookies


def test_wrong_pin_is_explained_in_the_readers_language(portal: RunningHub) -> None:
    created = portal.create_case([pdq()])
    page = portal.client.get("/status", headers={"Accept-Language": "fr"})
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    response = portal.client.post(
        "/status",
        data={"csrf": token.group(1), "case_number": created["case_number"], "pin": "00000000"},
        headers={"Accept-Language": "fr"},
    )
    assert response.status_code == 401
    assert "Le numéro de dossier ou le code PIN n\u2019est pas correct" in response.text


def test_language_switcher_remembers_the_choice(portal: RunningHub) -> None:
    response = portal.client.get("/lang/ar", params={"next": "/support"})
    assert response.status_code == 303 and response.headers["location"] == "/support"
    page = portal.client.get("/support")
    assert 'dir="rtl"' in page.text
    portal.client.cookies.clear()
    assert (
        portal.client.get("/lang/en", params={"next": "//evil.example"}).headers["location"] == "/"
    )


def test_support_page_lists_only_verified_services(portal: RunningHub) -> None:
    text = portal.client.get("/support").text
    for name in ("StopNCII.org", "Take It Down", "Revenge Porn Helpline"):
        assert name in text
    assert "tel:" not in text  # no phone number is shipped

"""The one sign-in guard (redress.portal.guard) on every case page: without a live sign-in each
answers the sign-in page saying the survivor was signed out (401) and drops the session cookie;
a malformed form is still refused first (422), as before the guard was shared. Over real HTTP."""

from __future__ import annotations

import inspect
import re

import httpx
import pytest
from fastapi.routing import APIRoute

from redress.portal import create, signin, status, support, withdraw
from tests.hub.conftest import RunningHub

GUARDED = [
    ("GET", "/status/case"),
    ("GET", "/status/withdraw"),
    ("POST", "/status/withdraw"),
    ("POST", "/status/contact"),
    ("GET", "/status/add"),
    ("POST", "/status/add"),
]


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/status").text)
    assert found is not None
    return found.group(1)


def _guarded(route: APIRoute) -> bool:
    """A route whose endpoint takes the signed-in case and is wrapped by the guard."""
    wrapped = inspect.unwrap(route.endpoint)
    taken = "case_id" in inspect.signature(wrapped).parameters
    assert taken == (wrapped is not route.endpoint), route.path  # takes it only through the guard
    return taken


def test_the_guarded_routes_are_the_case_pages() -> None:
    guarded = {
        (method, route.path)
        for pages in (create, signin, status, support, withdraw)
        for route in pages.router.routes
        if isinstance(route, APIRoute) and _guarded(route)
        for method in route.methods
    }
    assert guarded == set(GUARDED)


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_signed_out_browsers_get_the_sign_in_page(
    portal: RunningHub, method: str, path: str
) -> None:
    with httpx.Client(base_url=portal.url, timeout=30) as browser:
        data = {"csrf": _csrf(browser)} if method == "POST" else None
        browser.cookies.set("redress_case", "made-up.cookie")
        response = browser.request(method, path, data=data, headers={"Accept-Language": "es"})
    assert response.status_code == 401
    assert "Por tu seguridad" in response.text  # "For your safety you were signed out", in Spanish
    assert 'redress_case=""' in response.headers["set-cookie"]
    assert response.headers["cache-control"] == "no-store"


def test_a_malformed_form_is_refused_before_the_guard(portal: RunningHub) -> None:
    with httpx.Client(base_url=portal.url, timeout=30) as browser:
        form = {"csrf": _csrf(browser), "action": "x" * 11}  # at most 10 characters
        response = browser.post("/status/contact", data=form)
    assert response.status_code == 422

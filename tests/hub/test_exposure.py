"""What the hub shows and to whom: Secure cookies and HSTS when served over HTTPS or off
loopback (REDRESS_HTTPS), /metrics only with its token, and `no-store` on every response that
carries a case number or PIN."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from redress.hub.app import create_app
from redress.web.security_headers import HSTS, https_in_effect, is_loopback
from tests.hub.conftest import PDQ_B, RunningHub, _migrate, hub_settings, pdq, serve, serve_app


def _scope(scheme: str, server: tuple[str, int] | None) -> dict[str, Any]:
    return {"type": "http", "scheme": scheme, "server": server}


@pytest.mark.parametrize(
    ("mode", "scheme", "server", "expected"),
    [
        ("auto", "http", ("127.0.0.1", 8000), False),
        ("auto", "http", ("::1", 8000), False),
        ("auto", "http", ("localhost", 8000), False),
        ("auto", "https", ("127.0.0.1", 8000), True),  # a proxy on this host said HTTPS
        ("auto", "http", ("192.0.2.10", 8000), True),  # reachable from the network
        ("auto", "http", ("0.0.0.0", 8000), True),
        ("auto", "http", None, True),  # a Unix socket: a proxy in front
        ("on", "http", ("127.0.0.1", 8000), True),
        ("off", "https", ("192.0.2.10", 443), False),
    ],
)
def test_when_https_counts_as_in_effect(
    mode: Any, scheme: str, server: tuple[str, int] | None, expected: bool
) -> None:
    assert https_in_effect(mode, _scope(scheme, server)) is expected


def test_loopback_names() -> None:
    assert is_loopback("127.0.0.5") and is_loopback("[::1]") and is_loopback("LOCALHOST")
    assert not is_loopback("192.0.2.1") and not is_loopback("hub.example.org")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    _migrate(url)
    return url


def _portal_headers(client: httpx.Client, **headers: str) -> tuple[str | None, str]:
    """HSTS and the CSRF cookie's Set-Cookie line of the sign-in page."""
    response = client.get("/status", headers=headers)
    assert response.status_code == 200
    cookie = next(v for v in response.headers.get_list("set-cookie") if "redress_csrf" in v)
    return response.headers.get("strict-transport-security"), cookie


def test_plain_http_on_loopback_has_no_hsts_or_secure_cookies(sqlite_url: str) -> None:
    for hub in serve(hub_settings(sqlite_url)):
        hsts, cookie = _portal_headers(hub.client)
        assert hsts is None and "secure" not in cookie.lower()
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()


def test_https_from_a_proxy_on_this_host_turns_both_on(sqlite_url: str) -> None:
    for hub in serve(hub_settings(sqlite_url, trusted_proxies=1)):
        # X-Forwarded-Proto counts only from the proxies the operator declared.
        hsts, cookie = _portal_headers(hub.client, **{"X-Forwarded-Proto": "https"})
        assert hsts == HSTS == "max-age=31536000; includeSubDomains"
        assert "; secure" in cookie.lower()
        assert hub.client.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers[
            "strict-transport-security"
        ]


def test_forwarded_proto_is_ignored_without_a_trusted_proxy(sqlite_url: str) -> None:
    for hub in serve(hub_settings(sqlite_url)):  # REDRESS_TRUSTED_PROXIES=0: anyone could write it
        hsts, cookie = _portal_headers(hub.client, **{"X-Forwarded-Proto": "https"})
        assert hsts is None and "secure" not in cookie.lower()


@pytest.mark.parametrize("setting", [{"https": "on"}, {"secure_cookies": True}])
def test_https_on_forces_both_even_on_loopback(sqlite_url: str, setting: dict[str, Any]) -> None:
    for hub in serve(hub_settings(sqlite_url, **setting)):
        hsts, cookie = _portal_headers(hub.client)
        assert hsts == HSTS and "; secure" in cookie.lower()


def _outside_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if is_loopback(address) else address


@pytest.fixture
def outside() -> str:
    address = _outside_address()
    if address is None:
        pytest.skip("this machine has no address other than loopback")
    return address


@pytest.mark.parametrize(("mode", "on"), [("auto", True), ("off", False)])
def test_served_off_loopback_auto_means_on(
    sqlite_url: str, outside: str, mode: str, on: bool
) -> None:
    app = create_app(hub_settings(sqlite_url, https=mode))
    with serve_app(app, host=outside) as url, httpx.Client(base_url=url, timeout=30) as client:
        hsts, cookie = _portal_headers(client)
        assert (hsts == HSTS) is on
        assert ("; secure" in cookie.lower()) is on
    app.state.hub.engine.dispose()


# --- /metrics ---------------------------------------------------------------------------------


def _metrics(hub: RunningHub, authorization: str | None = None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return hub.client.get("/metrics", headers=headers)


def test_metrics_are_hidden_without_a_configured_token(sqlite_url: str) -> None:
    for hub in serve(hub_settings(sqlite_url)):
        response = _metrics(hub, "Bearer anything")
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_metrics_need_the_token(sqlite_url: str) -> None:
    for hub in serve(hub_settings(sqlite_url, metrics_token="m-token-0123456789")):
        for wrong in (None, "", "Bearer", "Bearer m-token-012345678", "Basic m-token-0123456789"):
            response = _metrics(hub, wrong)
            assert response.status_code == 401 and response.json()["code"] == "unauthorised"
        right = _metrics(hub, "Bearer m-token-0123456789")
        assert right.status_code == 200 and "redress_http_requests_total" in right.text
        assert right.headers["cache-control"] == "no-store"


def test_metrics_can_be_made_public_explicitly(sqlite_url: str) -> None:
    for hub in serve(hub_settings(sqlite_url, metrics_public=True)):
        assert _metrics(hub).status_code == 200


# --- no-store ---------------------------------------------------------------------------------


def test_every_case_route_answers_no_store_errors_included(hub: RunningHub) -> None:
    case = hub.create_case([pdq()])
    number, pin = case["case_number"], case["pin"]
    calls: list[tuple[str, dict[str, Any]]] = [
        (f"/v1/cases/{number}/status", {"pin": pin}),
        (f"/v1/cases/{number}/items", {"pin": pin, "items": [{"signals": [pdq(PDQ_B)]}]}),
        (f"/v1/cases/{number}/contact", {"pin": pin, "email": "me@example.org"}),
        (f"/v1/cases/{number}/withdraw", {"pin": pin}),
        (f"/v1/cases/{number}/status", {"pin": "00000000"}),  # refused
        (f"/v1/cases/{number}/items", {"pin": pin}),  # invalid
    ]
    answers = [hub.client.post(path, json=body) for path, body in calls]
    assert [a.status_code for a in answers][:4] == [200] * 4
    assert all(a.status_code >= 400 for a in answers[4:])
    assert number in answers[0].text and number in answers[1].text
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.request.url
    created = hub.client.post(
        "/v1/cases",
        json={"statement_version": hub.statement_version(), "items": [{"signals": [pdq()]}]},
    )
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"


def _pages(hub: RunningHub) -> Iterator[httpx.Response]:
    for path in ("/", "/submit", "/status", "/status/case", "/support", "/exit", "/lang/fr"):
        yield hub.client.get(path)


def test_portal_pages_and_redirects_are_no_store(hub: RunningHub) -> None:
    for response in _pages(hub):
        assert response.headers["cache-control"] == "no-store", response.request.url

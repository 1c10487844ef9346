"""Portal sign-ins end: after sign-out, quick exit (beacon and no-JS link), withdrawing the
case, and time (idle and absolute, on an injected clock). A copied cookie stops working with
them, it holds nothing but a random token, and every state-changing form needs the CSRF token.
Over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from itsdangerous import Signer, URLSafeTimedSerializer
from sqlalchemy import select

from redress.core.clock import ManualClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hub.app import create_app
from redress.hub.models import Case, PortalSession
from tests.hub.conftest import (  # noqa: F401  (fixtures: both databases)
    PDQ_A,
    PDQ_B,
    RunningHub,
    database_url,
    hub_settings,
    pdq,
    serve_app,
)

NEUTRAL = "https://neutral.example/weather"
COOKIE = "redress_case"


@dataclass
class Portal:
    hub: RunningHub
    app: FastAPI
    clock: ManualClock

    def device(self) -> httpx.Client:
        """A browser of its own (its own cookies)."""
        return httpx.Client(base_url=self.hub.url, timeout=30)

    def sign_in(self, case: dict[str, str]) -> httpx.Client:
        device = self.device()
        csrf = form_token(device.get("/status"))
        response = device.post(
            "/status", data={"csrf": csrf, "case_number": case["case_number"], "pin": case["pin"]}
        )
        assert response.status_code == 303, response.text
        assert device.cookies.get(COOKIE)
        return device

    def replay(self, cookie: str) -> int:
        """The status page's answer to a bare copy of a session cookie."""
        with self.device() as other:
            other.cookies.set(COOKIE, cookie)
            return other.get("/status/case").status_code

    def case_id(self, number: str) -> int:
        engine = make_engine(self.hub.settings.database_url)
        try:
            with unit_of_work(make_session_factory(engine)) as session:
                return int(session.scalars(select(Case.id).where(Case.case_number == number)).one())
        finally:
            engine.dispose()


def form_token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


@pytest.fixture
def live(database_url: str) -> Iterator[Portal]:  # noqa: F811
    settings = hub_settings(database_url, quick_exit_url=NEUTRAL)
    clock = ManualClock(datetime.now(UTC))  # the hub's clock: sessions' times come from it
    app = create_app(settings, clock=clock)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Portal(RunningHub(url, settings, client), app, clock)
    app.state.hub.engine.dispose()


def test_the_cookie_holds_only_a_signed_random_token(live: Portal) -> None:
    case = live.hub.create_case([pdq()])
    device = live.sign_in(case)
    cookie = device.cookies[COOKIE]
    signer = Signer(live.app.state.hub.box.derive("portal-session"), salt="portal-session")
    token = signer.unsign(cookie).decode()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 random bytes, nothing else
    case_id = live.case_id(case["case_number"])
    assert case["case_number"] not in cookie and case["pin"] not in cookie
    assert f'"c":{case_id}' not in cookie and "." not in token
    engine = make_engine(live.hub.settings.database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        (stored,) = session.scalars(select(PortalSession)).all()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert stored.case_id == case_id
    engine.dispose()
    # The old kind of cookie (the case id, signed) opens nothing any more.
    old = URLSafeTimedSerializer(live.app.state.hub.box.derive("portal-session"), salt="case")
    assert live.replay(old.dumps({"c": case_id})) == 401
    assert live.replay(cookie) == 200
    device.close()


def test_sign_out_needs_the_csrf_token_and_ends_the_session_on_the_server(
    live: Portal,
) -> None:
    device = live.sign_in(live.hub.create_case([pdq()]))
    cookie = device.cookies[COOKIE]
    page = device.get("/status/case")
    csrf = form_token(page)
    assert 'action="/status/signout"' in page.text
    for forged in ({}, {"csrf": "not-the-token-at-all-000000"}):
        refused = device.post("/status/signout", data=forged)
        assert refused.status_code == 403 and "nothing was changed" in refused.text
        assert live.replay(cookie) == 200  # still signed in
    done = device.post("/status/signout", data={"csrf": csrf})
    assert done.status_code == 303 and done.headers["location"].endswith("notice=signed_out")
    assert COOKIE not in device.cookies
    assert live.replay(cookie) == 401  # a copy of the cookie is worthless now
    device.close()


def test_quick_exit_link_ends_the_session_and_always_leaves(live: Portal) -> None:
    device = live.sign_in(live.hub.create_case([pdq()]))
    cookie = device.cookies[COOKIE]
    page = device.get("/status/case")
    csrf = form_token(page)
    assert f'href="/exit?csrf={csrf}"' in page.text and f'data-neutral="{NEUTRAL}"' in page.text
    # Without the token the exit still leaves at once, but cannot end the session.
    forged = device.get("/exit", params={"csrf": "forged"})
    assert forged.status_code == 303 and forged.headers["location"] == NEUTRAL
    assert live.replay(cookie) == 200
    device.cookies.set(COOKIE, cookie)
    left = device.get("/exit", params={"csrf": csrf})
    assert left.status_code == 303 and left.headers["location"] == NEUTRAL
    assert left.headers["cache-control"] == "no-store"
    assert live.replay(cookie) == 401
    device.close()


def test_quick_exit_beacon_ends_the_session(live: Portal) -> None:
    device = live.sign_in(live.hub.create_case([pdq()]))
    cookie = device.cookies[COOKIE]
    csrf = form_token(device.get("/status/case"))
    assert device.post("/exit", data={"csrf": "wrong"}).status_code == 403
    assert live.replay(cookie) == 200
    # What navigator.sendBeacon sends: a urlencoded body with the cookies.
    assert device.post("/exit", data={"csrf": csrf}).status_code == 204
    assert live.replay(cookie) == 401
    device.close()


@pytest.mark.parametrize("where", ["portal", "api"])
def test_withdrawing_the_case_ends_its_sessions_on_every_device(live: Portal, where: str) -> None:
    case = live.hub.create_case([pdq(PDQ_A)])
    other_case = live.hub.create_case([pdq(PDQ_B)])
    phone, laptop, someone_else = (live.sign_in(c) for c in (case, case, other_case))
    cookies = [d.cookies[COOKIE] for d in (phone, laptop, someone_else)]
    if where == "portal":
        csrf = form_token(phone.get("/status/withdraw"))
        done = phone.post("/status/withdraw", data={"csrf": csrf})
        assert done.status_code == 303
        assert done.headers["location"].endswith("/status?notice=withdrawn_case")
        notice = phone.get(done.headers["location"])
        assert "signed out on every device" in notice.text
    else:
        response = live.hub.client.post(
            f"/v1/cases/{case['case_number']}/withdraw", json={"pin": case["pin"]}
        )
        assert response.status_code == 200
    assert [live.replay(c) for c in cookies] == [401, 401, 200]
    for device in (phone, laptop, someone_else):
        device.close()


def test_sessions_end_when_idle_and_at_the_absolute_limit(live: Portal) -> None:
    # Defaults: 10 minutes idle, 20 minutes in all.
    case = live.hub.create_case([pdq()])
    busy = live.sign_in(case)
    for _ in range(2):
        live.clock.advance(9 * 60)
        assert busy.get("/status/case").status_code == 200
    live.clock.advance(2 * 60 + 1)  # 20 minutes after signing in
    expired = busy.get("/status/case")
    assert expired.status_code == 401 and "signed out" in expired.text
    idle = live.sign_in(case)
    live.clock.advance(10 * 60)
    assert idle.get("/status/case").status_code == 401
    busy.close()
    idle.close()


def _every_route(routes: list[Any]) -> Iterator[Any]:
    """Routes, with those of included routers (FastAPI keeps them inside the inclusion)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _every_route(inner.routes) if inner is not None else [route]


def test_every_state_changing_portal_route_needs_the_csrf_token(live: Portal) -> None:
    case = live.hub.create_case([pdq()])
    device = live.sign_in(case)
    cookie = device.cookies[COOKIE]
    posts = sorted(
        route.path
        for route in _every_route(live.app.routes)
        if isinstance(route, APIRoute)
        and "POST" in route.methods
        and not route.path.startswith(("/v1/", "/stopncii/"))
    )
    assert posts == [
        "/exit",
        "/status",
        "/status/add",
        "/status/contact",
        "/status/signout",
        "/status/withdraw",
        "/submit",
    ]
    body = {"case_number": case["case_number"], "pin": case["pin"], "email": "me@example.org"}
    for path in posts:
        response = device.post(path, data={**body, "csrf": "forged-token-forged-token"})
        refused = response.status_code == 403 or (
            response.status_code == 303 and "error=csrf" in response.headers["location"]
        )
        assert refused, f"{path}: {response.status_code}"
    assert live.replay(cookie) == 200  # nothing ended the session
    status = live.hub.client.post(
        f"/v1/cases/{case['case_number']}/status", json={"pin": case["pin"]}
    ).json()
    assert status["status"] == "active" and not status["contact_on_file"]
    device.close()

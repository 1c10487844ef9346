"""What the agent shows and to whom: /readyz detail only with the token, moderator sign-ins that
end (sign-out with CSRF, idle and absolute limits on an injected clock), HSTS off loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI

from redress.agent.app import create_agent_app
from redress.agent.config import AgentSettings, HubConfig
from redress.agent.review.sessions import ModeratorSessions
from redress.agent.runtime import Agent
from redress.core.clock import ManualClock
from tests.agent.conftest import TOKEN, migrate_agent, wait_for
from tests.hub.conftest import RunningHub, serve_app

AUTH = {"Authorization": f"Bearer {TOKEN}"}
COOKIE = "redress_moderator"


@contextmanager
def agent_app(hub: RunningHub, tmp_path: Path) -> Iterator[tuple[FastAPI, str]]:
    settings = AgentSettings(
        database_url=f"sqlite:///{tmp_path / 'agent.db'}",
        state_dir=str(tmp_path / "state"),
        token=TOKEN,
        poll_seconds=0.2,
        long_poll_seconds=1,
    )
    migrate_agent(settings.database_url)
    agent = Agent(settings, [HubConfig("national", hub.url, hub.participant("P"))])
    app = create_agent_app(agent)
    with serve_app(app, "the agent") as url:
        yield app, url


def _sign_in(url: str, name: str = "Sam") -> httpx.Client:
    page = httpx.Client(base_url=url, timeout=30)
    signed = page.post("/review/signin", data={"token": TOKEN, "name": name})
    assert signed.status_code == 303 and page.cookies.get(COOKIE)
    return page


def _csrf(page: httpx.Client) -> str:
    text = page.get("/review").text
    assert "Signed in as" in text
    return text.split('name="csrf" value="')[1].split('"')[0]


def _replay(url: str, cookie: str) -> bool:
    """Whether a bare copy of the cookie opens the review queue."""
    with httpx.Client(base_url=url, timeout=30) as other:
        other.cookies.set(COOKIE, cookie)
        return "Signed in as" in other.get("/review").text


def test_readiness_detail_only_with_the_token(hub: RunningHub, tmp_path: Path) -> None:
    with agent_app(hub, tmp_path) as (_app, url), httpx.Client(base_url=url) as client:
        wait_for(lambda: client.get("/readyz").status_code == 200, 30, "the first sync")
        anyone = client.get("/readyz")
        assert anyone.json() == {"status": "ready"}
        wrong = client.get("/readyz", headers={"Authorization": "Bearer nope"})
        assert wrong.json() == {"status": "ready"}
        detail = client.get("/readyz", headers=AUTH).json()
        assert detail["status"] == "ready" and "national" in detail["hubs"]
        assert "strict-transport-security" not in anyone.headers  # plain HTTP on loopback


def test_moderator_sign_out_ends_the_sign_in_and_needs_csrf(
    hub: RunningHub, tmp_path: Path
) -> None:
    with agent_app(hub, tmp_path) as (_app, url):
        page = _sign_in(url)
        cookie = page.cookies[COOKIE]
        csrf = _csrf(page)
        assert 'action="/review/signout"' in page.get("/review").text
        for forged in ({}, {"csrf": "0" * 64}, {"csrf": "é"}):
            assert page.post("/review/signout", data=forged).status_code == 403
            assert _replay(url, cookie)
        out = page.post("/review/signout", data={"csrf": csrf})
        assert out.status_code == 200 and "You are signed out." in out.text
        assert not _replay(url, cookie)
        # The old CSRF value is useless with a new sign-in.
        again = _sign_in(url)
        refused = again.post("/review/1", data={"decision": "Blocked", "csrf": csrf})
        assert refused.status_code == 403
        page.close()
        again.close()


def test_moderator_sign_ins_end_when_idle_and_after_eight_hours(
    hub: RunningHub, tmp_path: Path
) -> None:
    with agent_app(hub, tmp_path) as (app, url):
        clock = ManualClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
        moderators: ModeratorSessions = app.state.moderators
        moderators.clock = clock
        busy = _sign_in(url)
        for _ in range(8):  # active every 59 minutes: never idle...
            clock.advance(59 * 60)
            assert _replay(url, busy.cookies[COOKIE])
        clock.advance(9 * 60)  # ...but 8 hours after signing in, it ends
        assert not _replay(url, busy.cookies[COOKIE])
        idle = _sign_in(url)
        clock.advance(3600)
        assert not _replay(url, idle.cookies[COOKIE])
        assert len(moderators) == 0  # ended sign-ins are forgotten
        busy.close()
        idle.close()

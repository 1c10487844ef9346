"""Following a hub: the feed client applies the hub's feed to the agent's bank and each applied
response writes an event; a failing hub is retried with the back-off, which a test drives
through the retry's own `sleep` instead of waiting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from redress.agent.config import AgentSettings, HubConfig
from redress.agent.metrics import Metrics
from redress.agent.sync.service import HubFollower
from redress.core.backoff import FEED_WAIT, OUTBOX_WAIT, wait_after, wait_jittered
from redress.feed.client import FeedClient, FeedError
from tests.agent.conftest import free_port
from tests.agent.test_agent_features import random_pdq
from tests.agent.test_agent_services import Db
from tests.hub.conftest import RunningHub, database_url, hub  # noqa: F401


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Db]:
    found = Db(f"sqlite:///{tmp_path / 'agent.db'}")
    yield found
    found.engine.dispose()


def follower(
    db: Db, config: HubConfig, tmp_path: Path, sleep: Callable[[float], None] | None = None
) -> HubFollower:
    settings = AgentSettings(database_url="sqlite://", state_dir=str(tmp_path), long_poll_seconds=0)
    return HubFollower(
        config,
        settings=settings,
        transaction=db.transaction,
        metrics=Metrics(),
        clock=db.clock,
        state_dir=tmp_path,
        sleep=sleep,
    )


def test_the_back_off_is_the_one_from_before_the_reshape() -> None:
    steady = wait_jittered(FEED_WAIT.inner, 0.8, 1.2, uniform=lambda low, high: 1.0)
    for failures in range(1, 20):
        assert wait_after(steady, failures) == min(60.0, 0.5 * 2 ** min(failures, 7))
        assert wait_after(OUTBOX_WAIT, failures) == min(3600, 2 ** min(failures, 12))
        assert 0.8 * wait_after(steady, failures) <= wait_after(FEED_WAIT, failures)
        assert wait_after(FEED_WAIT, failures) <= 1.2 * wait_after(steady, failures)


def test_applied_feed_responses_are_recorded(
    hub: RunningHub,  # noqa: F811
    db: Db,
    tmp_path: Path,
) -> None:
    for _ in range(3):
        hub.create_case([{"type": "pdq", "value": random_pdq()}])
    config = HubConfig("national", hub.url, hub.participant("P"))
    following = follower(db, config, tmp_path)
    with FeedClient(config.url, config.key) as client:
        assert following.sync_once(client) is False  # caught up in one response
        assert following.sync_once(client) is False  # nothing new: no event
    assert following.bank.counts()["pdq"] == 3 and following.caught_up_once
    ((kind, subject, details),) = db.events()
    assert (kind, subject) == ("sync.applied", "hub:national")
    assert details["cursor"] == details["head"] == following.cursor
    assert isinstance(details["entries"], int) and details["entries"] >= 3
    # The snapshot interval is counted on the injected clock.
    following.maybe_snapshot()
    assert not list(tmp_path.glob("banks/*"))
    db.clock.advance(60)
    following.maybe_snapshot()
    assert len(list(tmp_path.glob("banks/*"))) == 1


def test_a_failing_hub_is_retried_with_back_off_until_the_follower_stops(
    db: Db, tmp_path: Path
) -> None:
    slept: list[float] = []
    config = HubConfig("gone", f"http://127.0.0.1:{free_port()}", "rk_test_key")

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 4:
            following.stop()  # the next failure ends the retries

    following = follower(db, config, tmp_path, sleep=sleep)
    with FeedClient(config.url, config.key) as client, pytest.raises(httpx.ConnectError):
        following.sync_with_retries(client)
    assert len(slept) == 4
    for number, seconds in enumerate(slept, start=1):
        assert 0.8 * 2 ** (number - 1) <= seconds <= 1.2 * 2 ** (number - 1)
    assert following.failures == 4 and "ConnectError" in (following.last_error or "")
    assert following.metrics.sync_errors.labels("gone")._value.get() == 4
    assert db.events() == []


def test_a_hub_that_refuses_is_a_feed_error(hub: RunningHub) -> None:  # noqa: F811
    with FeedClient(hub.url, "rk_not_a_key") as client, pytest.raises(FeedError) as refused:
        client.read(0, limit=10, wait=0, apply=lambda block: None)
    assert refused.value.status == 502 and refused.value.code == "hub_refused"
    assert "hub answered 401" in refused.value.detail

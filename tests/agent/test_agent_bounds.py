"""The agent's bounds, served in this process over loopback: heavy JSON checks off the event
loop (proved by ordering with events), memory-budget refusals with 503 and Retry-After, and
the size limits of JSON checks and uploads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from redress.agent.app import create_agent_app
from redress.agent.check.service import CheckResult
from redress.agent.config import AgentSettings
from redress.agent.runtime import Agent
from redress.hashing.signal_types import VpdqFrame, VpdqSignal
from tests.agent.conftest import TOKEN, migrate_agent
from tests.conftest import textured_image
from tests.hub.conftest import serve_app


@contextmanager
def agent_alone(tmp_path: Path, **settings: Any) -> Iterator[tuple[Agent, httpx.Client]]:
    """An agent following no hub (every check allows), served on loopback."""
    values = {
        "database_url": f"sqlite:///{tmp_path / 'agent.db'}",
        "state_dir": str(tmp_path / "state"),
        "token": TOKEN,
        **settings,
    }
    migrate_agent(str(values["database_url"]))
    agent = Agent(AgentSettings(**values), [])
    with (
        serve_app(create_agent_app(agent), "the agent") as url,
        httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as c,
    ):
        yield agent, c
    agent.engine.dispose()


def vpdq_value(frames: int) -> str:
    return VpdqSignal().format(
        [VpdqFrame(n, 100, f"{(n * 2654435761) % 2**256:064x}", float(n)) for n in range(frames)]
    )


def heavy_body(frames: int = 300) -> dict[str, Any]:
    return {"signals": [{"type": "vpdq", "value": vpdq_value(frames)}]}


def test_healthz_answers_while_a_heavy_json_check_is_running(tmp_path: Path) -> None:
    with agent_alone(tmp_path) as (agent, client):
        inside, release = threading.Event(), threading.Event()
        original = agent.check

        def held_check(signals: Any) -> CheckResult:
            if any(s.type == "vpdq" for s in signals):
                inside.set()  # the heavy check is running...
                assert release.wait(60)  # ...and stays running until /healthz has answered
            return original(signals)

        agent.check = held_check  # type: ignore[method-assign]
        answers: list[int] = []
        heavy = threading.Thread(
            target=lambda: answers.append(client.post("/v1/check", json=heavy_body()).status_code)
        )
        heavy.start()
        assert inside.wait(60), "the heavy check never started"
        # Were the check on the event loop, this request could not be answered until `release`.
        assert client.get("/healthz", timeout=30).json() == {"status": "ok"}
        small = client.post("/v1/check", json={"signals": [{"type": "md5", "value": "ab" * 16}]})
        assert small.json()["decision"] == "allow"
        assert heavy.is_alive() and not answers
        release.set()
        heavy.join(60)
        assert answers == [200]


def test_a_full_memory_budget_answers_503_with_retry_after(tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    textured_image(800, 600).save(picture)
    with agent_alone(tmp_path, memory_budget_mb=256, budget_wait_seconds=0) as (agent, client):
        held = agent.budget.acquire(agent.budget.total, timeout=0)  # every byte in use
        for response in (
            client.post("/v1/check", files={"file": ("photo.png", picture.read_bytes())}),
            client.post("/v1/check", json=heavy_body()),
            client.post("/v1/check/batch", json={"requests": [heavy_body()]}),
        ):
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "1"
            body = response.json()
            assert body["code"] == "busy"
            assert "REDRESS_AGENT_MEMORY_BUDGET_MB" in body["detail"]
        # A few hashes need no reservation: the cheap path stays open when the budget is full.
        small = client.post("/v1/check", json={"signals": [{"type": "md5", "value": "ab" * 16}]})
        assert small.status_code == 200
        agent.budget.release(held)
        upload = client.post("/v1/check", files={"file": ("photo.png", picture.read_bytes())})
        assert upload.status_code == 200 and upload.json()["decision"] == "allow"
        assert client.post("/v1/check", json=heavy_body()).status_code == 200
        assert agent.budget.used == 0  # every reservation was given back


def test_a_waiting_upload_starts_when_memory_is_released(tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    textured_image(800, 600).save(picture)
    with agent_alone(tmp_path, budget_wait_seconds=60) as (agent, client):
        queued = threading.Event()
        agent.budget._on_wait = lambda _amount: queued.set()
        held = agent.budget.acquire(agent.budget.total, timeout=0)
        answers: list[httpx.Response] = []
        upload = threading.Thread(
            target=lambda: answers.append(
                client.post("/v1/check", files={"file": ("photo.png", picture.read_bytes())})
            )
        )
        upload.start()
        assert queued.wait(60), "the upload did not queue for memory"
        assert client.get("/healthz").status_code == 200  # queued on the loop, not in a thread
        agent.budget.release(held)
        upload.join(60)
        assert answers[0].status_code == 200, answers[0].text


def test_json_checks_are_bounded(tmp_path: Path) -> None:
    with agent_alone(
        tmp_path, max_vpdq_signals=2, max_vpdq_frames=100, max_json_bytes=64 * 1024
    ) as (_agent, client):
        three = {"signals": [{"type": "vpdq", "value": vpdq_value(5)}] * 3}
        response = client.post("/v1/check", json=three)
        assert response.status_code == 413
        assert response.json()["code"] == "too_many_vpdq_signals"
        response = client.post("/v1/check", json=heavy_body(101))
        assert response.status_code == 413
        assert response.json()["code"] == "vpdq_too_long"
        assert "REDRESS_AGENT_MAX_VPDQ_FRAMES" in response.json()["detail"]
        assert client.post("/v1/check", json=heavy_body(100)).status_code == 200
        huge = {"signals": [{"type": "md5", "value": "ab" * 16}] * 64, "content_id": "x" * 100}
        big = client.post(
            "/v1/check", content=b" " * (65 * 1024) + httpx.Request("POST", "/", json=huge).content
        )
        assert big.status_code == 413 and big.json()["code"] == "json_too_large"
        batch = client.post("/v1/check/batch", json={"requests": [three, heavy_body(10)]})
        assert batch.status_code == 200
        first, second = batch.json()["results"]
        assert first["error"]["code"] == "too_many_vpdq_signals"
        assert second["decision"] == "allow"


@pytest.mark.parametrize("declared", [True, False])
def test_an_oversized_json_body_is_refused_whether_or_not_it_declares_its_length(
    tmp_path: Path, declared: bool
) -> None:
    with agent_alone(tmp_path, max_json_bytes=4096) as (_agent, client):
        payload = b'{"signals": [' + b" " * 10_000 + b"]}"
        content: Any = payload if declared else iter([payload[:5000], payload[5000:]])
        response = client.post(
            "/v1/check", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert response.json()["code"] == "json_too_large"


def test_an_upload_over_the_decode_limit_is_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDRESS_MAX_DECODE_MB", "64")
    picture = tmp_path / "wide.png"
    textured_image(6000, 4000).save(picture)  # 24 M pixels: about 100 MB to decode
    with agent_alone(tmp_path) as (_agent, client):
        response = client.post("/v1/check", files={"file": ("wide.png", picture.read_bytes())})
        assert response.status_code == 422
        assert response.json()["code"] == "unhashable_too_large"
        assert "REDRESS_MAX_DECODE_MB" in response.json()["detail"]

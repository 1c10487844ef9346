"""Agent features against a real hub over loopback, the agent served in this process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from redress.agent.app import create_agent_app
from redress.agent.config import AgentSettings, ConfigError, HubConfig, hubs_from_file
from redress.agent.runtime import Agent
from redress.core.clock import Clock, ManualClock
from redress.hashing.files import hash_file
from tests.agent.conftest import TOKEN, Gate, migrate_agent, wait_for
from tests.hub.conftest import _migrate, hub_settings, serve, serve_app

RNG = np.random.default_rng(11)


def random_pdq() -> str:
    return RNG.bytes(32).hex()


def near(value: str, bits: int) -> str:
    number = int(value, 16)
    for bit in RNG.choice(256, bits, replace=False):
        number ^= 1 << int(bit)
    return f"{number:064x}"


class Running:
    def __init__(self, agent: Agent, url: str) -> None:
        self.agent, self.url = agent, url
        self.client = httpx.Client(
            base_url=url, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}
        )

    def wait_ready(self) -> None:
        wait_for(lambda: self.client.get("/readyz").status_code == 200, 30, "the first sync")

    def check(self, *signals: tuple[str, str]) -> dict:
        body = {"signals": [{"type": t, "value": v} for t, v in signals]}
        response = self.client.post("/v1/check", json=body)
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def run_agent(
    tmp_path: Path, hubs: list[HubConfig], clock: Clock | None = None, **settings: object
) -> Iterator[Running]:
    values = {
        "database_url": f"sqlite:///{tmp_path / 'agent.db'}",
        "state_dir": str(tmp_path / "state"),
        "token": TOKEN,
        "poll_seconds": 0.2,
        "long_poll_seconds": 1,
        **settings,
    }
    migrate_agent(str(values["database_url"]))
    agent = Agent(AgentSettings(**values), hubs, clock=clock)
    with serve_app(create_agent_app(agent), "the agent") as url:
        running = Running(agent, url)
        with running.client:
            yield running


@pytest.fixture
def second_hub(tmp_path):
    url = f"sqlite:///{tmp_path / 'second-hub.db'}"
    _migrate(url)
    yield from serve(hub_settings(url))


def test_two_hubs_with_their_own_action_threshold_and_switch(hub, second_hub, tmp_path):
    a, b, c = random_pdq(), random_pdq(), random_pdq()
    hub.create_case([{"type": "pdq", "value": a}, {"type": "md5", "value": "ab" * 16}])
    second_hub.create_case([{"type": "pdq", "value": b}], [{"type": "pdq", "value": c}])
    config = tmp_path / "hubs.toml"
    config.write_text(
        f'[[hub]]\nname = "national"\nurl = "{hub.url}"\nkey = "{hub.participant("P")}"\n'
        'action = "block"\npdq_threshold = 10\n\n'
        f'[[hub]]\nname = "regional"\nurl = "{second_hub.url}"\nkey_env = "REGIONAL_KEY"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="REGIONAL_KEY is not set"):
        hubs_from_file(config)
    import os

    os.environ["REGIONAL_KEY"] = second_hub.participant("P")
    try:
        hubs = hubs_from_file(config)
    finally:
        del os.environ["REGIONAL_KEY"]
    with run_agent(tmp_path, hubs) as running:
        running.wait_ready()
        # national: block, but only within 10 bits; regional: review within the default 31.
        assert running.check(("pdq", near(a, 8)))["decision"] == "block"
        assert running.check(("pdq", near(a, 20)))["decision"] == "allow"
        assert running.check(("md5", "AB" * 16))["decision"] == "block"
        result = running.check(("pdq", near(b, 20)))
        assert result["decision"] == "review"
        assert [m["hub"] for m in result["matches"]] == ["regional"]
        both = running.check(("pdq", near(a, 5)), ("pdq", near(c, 5)))
        assert both["decision"] == "block"
        assert {m["hub"] for m in both["matches"]} == {"national", "regional"}
        hubs_state = running.client.get("/v1/hubs").json()["hubs"]
        assert {h["name"]: h["signals"]["pdq"] for h in hubs_state} == {
            "national": 1,
            "regional": 2,
        }


def test_disabled_hub_is_not_followed_or_matched(hub, tmp_path):
    value = random_pdq()
    hub.create_case([{"type": "pdq", "value": value}])
    config = HubConfig("off", hub.url, hub.participant("P"), enabled=False)
    with run_agent(tmp_path, [config]) as running:
        ready = running.client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["hubs"] == {"off": "disabled"}
        assert running.check(("pdq", value))["decision"] == "allow"


def test_negative_bank_suppresses_matches(hub, tmp_path):
    value = random_pdq()
    hub.create_case([{"type": "pdq", "value": value}])
    with run_agent(tmp_path, [HubConfig("hub", hub.url, hub.participant("P"))]) as running:
        running.wait_ready()
        assert running.check(("pdq", value))["decision"] == "review"
        added = running.client.post(
            "/v1/negative",
            json={"signals": [{"type": "pdq", "value": near(value, 4)}], "note": "meme"},
        )
        assert added.json() == {"added": 1}
        result = running.check(("pdq", value))
        assert result["decision"] == "allow" and result["suppressed_by_negative_bank"]
        assert running.check(("pdq", random_pdq()))["suppressed_by_negative_bank"] is False
        bad = running.client.post(
            "/v1/negative", json={"signals": [{"type": "vpdq", "value": "0,100," + value + ",0"}]}
        )
        assert bad.status_code == 422
        (entry,) = running.client.get("/v1/negative").json()["entries"]
        assert entry["note"] == "meme"
        assert running.client.delete(f"/v1/negative/{entry['id']}").status_code == 200
        assert running.check(("pdq", value))["decision"] == "review"
        assert running.client.delete(f"/v1/negative/{entry['id']}").status_code == 404


def test_feedback_waits_in_the_outbox_while_the_hub_is_unreachable(hub, tmp_path):
    value = random_pdq()
    case = hub.create_case([{"type": "pdq", "value": value}])
    gate = Gate(int(hub.url.rsplit(":", 1)[1]))
    key = hub.participant("P")
    clock = ManualClock()  # the outbox's back-off runs on it: moved, not waited for
    try:
        hubs = [HubConfig("hub", f"http://127.0.0.1:{gate.port}", key)]
        with run_agent(tmp_path, hubs, clock) as running:
            running.wait_ready()
            gate.cut()  # the hub is unreachable from here on
            result = running.check(("pdq", value))
            assert result["decision"] == "review"  # checks go on from the local index
            (review,) = result["reviews"]
            decided = running.client.post(f"/v1/reviews/{review}", json={"decision": "Blocked"})
            assert decided.is_success

            def waiting() -> str:
                lines = running.client.get("/metrics").text.splitlines()
                return next(line for line in lines if line.startswith("redress_agent_outbox_p"))

            wait_for(lambda: waiting().endswith(" 2.0"), 10, "both verdicts to be held")
            assert status_of(hub, case)["platforms_removed"] == 0
            gate.restore()
            clock.advance(3600)  # past any back-off (its steps: tests/agent/test_agent_services)
            running.agent.outbox.wake()
            wait_for(lambda: status_of(hub, case)["platforms_removed"] == 1, 10, "delivery")
            wait_for(lambda: waiting().endswith(" 0.0"), 10, "an empty outbox")
    finally:
        gate.close()


def status_of(hub, case: dict) -> dict:
    response = hub.client.post(f"/v1/cases/{case['case_number']}/status", json={"pin": case["pin"]})
    return response.json()["items"][0]


def test_batch_check_answers_in_order_with_errors_in_place(hub, tmp_path):
    value = random_pdq()
    hub.create_case([{"type": "pdq", "value": value}])
    with run_agent(tmp_path, [HubConfig("hub", hub.url, hub.participant("P"))]) as running:
        running.wait_ready()
        body = {
            "requests": [
                {"signals": [{"type": "pdq", "value": random_pdq()}]},
                {"signals": [{"type": "pdq", "value": "nothex"}]},
                {"signals": [{"type": "pdq", "value": near(value, 3)}], "content_id": "c-3"},
            ]
        }
        results = running.client.post("/v1/check/batch", json=body).json()["results"]
        assert results[0]["decision"] == "allow"
        assert results[1]["error"]["code"] == "invalid_signal"
        assert results[2]["decision"] == "review"
        (review,) = running.client.get("/v1/reviews").json()["reviews"]
        assert review["content_id"] == "c-3" and not review["has_media"]
        metrics = running.client.get("/metrics")
        assert 'redress_agent_decisions_total{decision="review"} 1.0' in metrics.text
        assert 'redress_agent_index_signals{hub="hub",type="pdq"} 1.0' in metrics.text
        assert running.client.get("/metrics", headers={"Authorization": ""}).status_code == 401


def test_review_page_sign_in_and_decide(hub, tmp_path):
    value = random_pdq()
    case = hub.create_case([{"type": "pdq", "value": value}])
    with run_agent(tmp_path, [HubConfig("hub", hub.url, hub.participant("P"))]) as running:
        running.wait_ready()
        running.client.post(
            "/v1/check",
            json={"signals": [{"type": "pdq", "value": value}], "content_id": "post-77"},
        )
        with httpx.Client(base_url=running.url, follow_redirects=True) as page:
            assert "Agent token" in page.get("/review").text
            wrong = page.post("/review/signin", data={"token": "nope", "name": "Sam"})
            assert wrong.status_code == 401 and "not right" in wrong.text
            listing = page.post("/review/signin", data={"token": TOKEN, "name": "Sam"})
            assert "post-77" in listing.text and "Signed in as Sam" in listing.text
            assert "default-src 'none'" in listing.headers["content-security-policy"]
            csrf = listing.text.split('name="csrf" value="')[1].split('"')[0]
            review = running.client.get("/v1/reviews").json()["reviews"][0]["id"]
            forged = page.post(f"/review/{review}", data={"decision": "Blocked", "csrf": "x"})
            assert forged.status_code == 403
            done = page.post(f"/review/{review}", data={"decision": "Blocked", "csrf": csrf})
            assert "Nothing is waiting for review." in done.text
        decided = running.client.get("/v1/reviews", params={"status": "blocked"}).json()
        assert decided["reviews"][0]["decided_by"] == "Sam"

        def removed() -> bool:
            status = hub.client.post(
                f"/v1/cases/{case['case_number']}/status", json={"pin": case["pin"]}
            ).json()
            return status["items"][0]["platforms_removed"] == 1

        wait_for(removed, 15, "Blocked at the hub")


@pytest.mark.reference
def test_video_upload_matches_by_vpdq_with_segments(hub, tmp_path, reference):
    videos = reference / "vpdq" / "videos"
    # The survivor's device hashed the original clip (one frame a second, as the portal does);
    # the upload is a re-encode of it with a grey bar added.
    (banked,) = [
        s for s in hash_file(videos / "chair-orig-22-sd-bar.mp4").signals if s.type == "vpdq"
    ]
    hub.create_case([{"type": "vpdq", "value": banked.value}])
    with run_agent(tmp_path, [HubConfig("hub", hub.url, hub.participant("P"))]) as running:
        running.wait_ready()
        with (videos / "chair-22-sd-grey-bar.mp4").open("rb") as upload:  # not the same bytes
            result = running.client.post("/v1/check", files={"file": ("clip.mp4", upload)})
        assert result.status_code == 200, result.text
        body = result.json()
        assert body["decision"] == "review"
        (match,) = body["matches"]
        assert match["signal"]["type"] == "vpdq" and match["distance"] is None
        start, end = match["segments"][0]
        assert start == 0.0 and end > 10  # the whole clip, as time ranges in seconds
        with (videos / "doorknob-hd-no-bar.mp4").open("rb") as upload:
            other = running.client.post("/v1/check", files={"file": ("other.mp4", upload)})
        assert other.json()["decision"] == "allow"


def test_review_sign_in_is_rate_limited(hub, tmp_path):
    hubs = [HubConfig("hub", hub.url, hub.participant("P"))]
    with run_agent(tmp_path, hubs) as running, httpx.Client(base_url=running.url) as page:
        codes = [
            page.post("/review/signin", data={"token": f"guess{i}", "name": "x"}).status_code
            for i in range(11)
        ]
        assert codes == [401] * 10 + [429]
        # Even the right token waits out the window once the limit is reached.
        right = page.post("/review/signin", data={"token": TOKEN, "name": "x"})
        assert right.status_code == 429 and "Too many" in right.text


def test_a_damaged_snapshot_means_a_full_resync_not_a_crash(hub, tmp_path):
    values = [random_pdq() for _ in range(5)]
    hub.create_case(*[[{"type": "pdq", "value": v}] for v in values])
    hubs = [HubConfig("hub", hub.url, hub.participant("P"))]
    with run_agent(tmp_path, hubs, snapshot_seconds=0.01) as running:
        running.wait_ready()
        wait_for(lambda: list((tmp_path / "state" / "banks").glob("*.rdxbank")), 10, "a snapshot")
    (snapshot,) = (tmp_path / "state" / "banks").glob("*.rdxbank")
    snapshot.write_bytes(snapshot.read_bytes()[:40])  # cut short, as by a full disk
    with run_agent(tmp_path, hubs) as running:
        running.wait_ready()
        state = running.client.get("/v1/hubs").json()["hubs"][0]
        assert state["signals"]["pdq"] == 5, str(state)
        assert running.check(("pdq", values[2]))["decision"] == "review"
        assert 'redress_agent_pdq_index_bytes{hub="hub"}' in running.client.get("/metrics").text

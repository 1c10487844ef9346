"""A real hub (in this process) and a real agent (`redress agent`, another process) over
loopback: sync, check, review, feedback reaching the survivor's case status, withdrawal
reaching the agent, and a restart in the middle of a sync."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from redress.hashing.files import HashOptions, hash_file
from tests.agent.conftest import wait_for
from tests.conftest import textured_image


def picture(path: Path, seed: int) -> tuple[Path, list[dict]]:
    """A generated benign photo and the signals a survivor's browser would submit for it."""
    textured_image(640, 480, seed).save(path, quality=92)
    hashed = hash_file(path, HashOptions(types=("pdq", "md5")))
    signals = [
        {"type": s.type, "value": s.value, **({"quality": s.quality} if s.quality else {})}
        for s in hashed.signals
    ]
    return path, signals


def status(hub, case: dict) -> dict:
    response = hub.client.post(f"/v1/cases/{case['case_number']}/status", json={"pin": case["pin"]})
    assert response.status_code == 200, response.text
    return response.json()


def test_sync_check_review_feedback_and_withdrawal(hub, agent_factory, database_url, tmp_path):
    photo, signals = picture(tmp_path / "photo.jpg", 1)
    other = tmp_path / "other.jpg"  # blocks of random colour: nothing like the photo
    blocks = np.random.default_rng(9).integers(0, 255, (12, 16, 3), dtype=np.uint8)
    Image.fromarray(np.kron(blocks, np.ones((40, 40, 1), dtype=np.uint8))).save(other)
    case = hub.create_case(signals)
    key = hub.participant("ExamplePlatform")
    # The agent keeps its state in the same kind of database as the hub (SQLite or PostgreSQL).
    agent = agent_factory(hub, key, database=database_url)
    wait_for(agent.ready, 60, "the first sync")
    (item,) = [i["item"] for i in status(hub, case)["items"]]

    # A re-encoded, resized copy of the photo is caught by PDQ; an unrelated photo is not.
    copy = tmp_path / "copy.jpg"
    Image.open(photo).resize((500, 375)).save(copy, quality=70)
    with copy.open("rb") as upload:
        response = agent.client.post(
            "/v1/check", files={"file": ("copy.jpg", upload)}, data={"content_id": "upload-1"}
        )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["decision"] == "review"
    (match,) = [m for m in result["matches"] if m["signal"]["type"] == "pdq"]
    assert match["items"] == [item] and match["hub"] == "hub" and 0 <= match["distance"] <= 31
    with other.open("rb") as upload:
        unrelated = agent.client.post("/v1/check", files={"file": ("other.jpg", upload)})
    assert unrelated.json() == {
        "decision": "allow",
        "matches": [],
        "reviews": [],
        "suppressed_by_negative_bank": False,
    }

    # Held for review, with the file kept for the moderator; PendingReview reaches the hub.
    (review,) = agent.client.get("/v1/reviews").json()["reviews"]
    assert review["content_id"] == "upload-1" and review["has_media"]
    wait_for(
        lambda: status(hub, case)["items"][0]["platforms_reviewing"] == 1,
        15,
        "PendingReview at the hub",
    )

    # The moderator confirms: Blocked reaches the hub and shows in the survivor's case status.
    decided = agent.client.post(
        f"/v1/reviews/{review['id']}", json={"decision": "Blocked", "moderator": "sam"}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "blocked"
    wait_for(
        lambda: status(hub, case)["items"][0]["platforms_removed"] == 1, 15, "Blocked at the hub"
    )
    again = agent.client.post(f"/v1/reviews/{review['id']}", json={"decision": "NotBlocked"})
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    assert agent.client.get(f"/v1/reviews/{review['id']}/media").status_code == 404

    # The survivor withdraws: the agent stops matching (how fast is bench/agent.py's business;
    # the deadline here only stops a broken sync from hanging the suite).
    pdq = [s for s in signals if s["type"] == "pdq"]
    assert agent.check(signals=pdq)["decision"] == "review"
    withdrawn = hub.client.post(
        f"/v1/cases/{case['case_number']}/withdraw", json={"pin": case["pin"], "item": item}
    )
    assert withdrawn.status_code == 200
    wait_for(
        lambda: agent.check(signals=pdq)["decision"] == "allow",
        30,
        "the withdrawal to reach the agent",
    )


def test_restart_in_the_middle_of_a_sync_loses_and_repeats_nothing(hub, agent_factory, tmp_path):
    rng = np.random.default_rng(4)
    key = hub.participant("ExamplePlatform")
    cases = []
    for _batch in range(6):
        items = [
            [
                {
                    "type": "pdq",
                    "value": rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex(),
                    "quality": 100,
                }
            ]
            for _ in range(150)
        ]
        cases.append(hub.create_case(*items))
    # Withdraw a whole case so the feed holds removals too.
    hub.client.post(f"/v1/cases/{cases[0]['case_number']}/withdraw", json={"pin": cases[0]["pin"]})
    live = {e["value"] for e in hub.whole_feed(key) if e["op"] == "add"} - {
        e["value"] for e in hub.whole_feed(key) if e["op"] == "remove"
    }
    assert len(live) == 750

    slow = {
        "REDRESS_AGENT_FEED_LIMIT": "40",
        "REDRESS_AGENT_SNAPSHOT_SECONDS": "0.05",
        "REDRESS_AGENT_POLL_SECONDS": "0.05",
    }
    first = agent_factory(hub, key, **slow)
    wait_for(lambda: 200 < first.hubs()[0]["cursor"] < 900, 60, "part of the feed")
    first.stop(kill=True)  # no clean shutdown: whatever was saved is all there is
    assert "bank restored" not in first.log.read_text()  # the first start had no snapshot
    second = agent_factory(hub, key, **slow)
    wait_for(second.ready, 60, "catching up after the restart")
    # The second agent resumed from the first one's snapshot, not from the start of the feed.
    restored = re.findall(r"bank restored at cursor (\d+)", second.log.read_text())
    assert len(restored) == 1, second.log.read_text()
    assert 0 < int(restored[0]) < 900
    (state,) = second.hubs()
    assert state["signals"]["pdq"] == 750
    assert state["items"] == 750  # no item reference counted twice
    values = sorted(live)
    for value in values[::50]:
        assert second.check(signals=[{"type": "pdq", "value": value}])["decision"] == "review"
    gone = [e["value"] for e in hub.whole_feed(key) if e["op"] == "remove"]
    assert second.check(signals=[{"type": "pdq", "value": gone[0]}])["decision"] == "allow"


def test_agent_refuses_without_token_and_explains_bad_input(hub, agent_factory):
    agent = agent_factory(hub, hub.participant("ExamplePlatform"))
    assert (
        agent.client.post(
            "/v1/check", json={"signals": []}, headers={"Authorization": ""}
        ).status_code
        == 401
    )
    bad = agent.client.post("/v1/check", json={"signals": [{"type": "pdq", "value": "zz"}]})
    assert bad.status_code == 422 and "signal 1" in bad.json()["detail"]
    text = agent.client.post("/v1/check", files={"file": ("notes.txt", b"hello there")})
    assert text.status_code == 422 and text.json()["code"].startswith("unhashable")
    assert "Traceback" not in agent.log.read_text()

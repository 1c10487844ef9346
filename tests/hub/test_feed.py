"""The feed: adds and removals in order, consistent pages under concurrent writes, durable
cursors, withdrawals reaching platforms."""

from __future__ import annotations

import threading

import httpx

from redress.hub.participants.schemas import Scope
from tests.hub.conftest import MD5_A, PDQ_A, PDQ_B, RunningHub, hub_settings, pdq, serve


def _signals(entries: list[dict]) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return [(e["op"], e["type"], e["value"]) for e in entries]


def test_feed_carries_adds_with_opaque_refs_never_case_numbers(hub: RunningHub) -> None:
    key = hub.participant("Example")
    case = hub.create_case([pdq(PDQ_A), {"type": "md5", "value": MD5_A}])
    entries = hub.feed(key)["entries"]
    assert _signals(entries) == [("add", "pdq", PDQ_A), ("add", "md5", MD5_A)]
    assert all(e["item"].startswith("i_") for e in entries)
    text = hub.client.get("/v1/feed", headers={"Authorization": f"Bearer {key}"}).text
    assert case["case_number"] not in text
    assert case["case_number"].replace("-", "") not in text


def test_withdrawal_reaches_the_feed_unless_another_case_holds_the_signal(hub: RunningHub) -> None:
    key = hub.participant("Example")
    first = hub.create_case([pdq(PDQ_A)])
    second = hub.create_case([pdq(PDQ_A)])
    hub.client.post(f"/v1/cases/{first['case_number']}/withdraw", json={"pin": first["pin"]})
    assert [e["op"] for e in hub.feed(key)["entries"]] == ["add", "add"]
    hub.client.post(f"/v1/cases/{second['case_number']}/withdraw", json={"pin": second["pin"]})
    entries = hub.feed(key)["entries"]
    assert _signals(entries)[-1] == ("remove", "pdq", PDQ_A)
    assert entries[-1]["reason"] == "withdrawn"


def test_pages_follow_the_cursor_and_the_cursor_survives_a_restart(database_url: str) -> None:
    settings = hub_settings(database_url)
    for running in serve(settings):
        key = running.participant("Example")
        for value in (PDQ_A, PDQ_B):
            running.create_case([pdq(value)])
        first = running.feed(key, limit=1)
        assert first["has_more"] is True
        assert len(first["entries"]) == 1
        cursor = first["next_cursor"]
    for restarted in serve(settings):  # a new process-worth of app on the same database
        rest = restarted.feed(key, cursor=cursor)
        assert _signals(rest["entries"]) == [("add", "pdq", PDQ_B)]
        assert rest["has_more"] is False
        empty = restarted.feed(key, cursor=rest["next_cursor"])
        assert empty["entries"] == [] and empty["next_cursor"] == rest["next_cursor"]


def test_bad_cursor_is_a_clear_error(hub: RunningHub) -> None:
    key = hub.participant("Example")
    response = hub.client.get(
        "/v1/feed", params={"cursor": "abc"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_cursor"


def test_concurrent_writes_never_make_a_reader_skip_or_repeat(hub: RunningHub) -> None:
    key = hub.participant("Reader", (Scope.FEED_READ,))
    writers, cases_each = 4, 6
    errors: list[str] = []

    def write(worker: int) -> None:
        with httpx.Client(base_url=hub.url, timeout=60) as client:
            version = client.get("/v1/statement").json()["version"]
            for n in range(cases_each):
                value = f"{worker:02x}{n:02x}" + "ab" * 30
                response = client.post(
                    "/v1/cases",
                    json={"statement_version": version, "items": [{"signals": [pdq(value)]}]},
                )
                if response.status_code != 201:
                    errors.append(response.text)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    seen: list[int] = []
    cursor = ""
    while any(t.is_alive() for t in threads):
        page = hub.feed(key, cursor, limit=3)
        seen.extend(e["seq"] for e in page["entries"])
        cursor = page["next_cursor"]
    for thread in threads:
        thread.join()
    while True:
        page = hub.feed(key, cursor, limit=3)
        seen.extend(e["seq"] for e in page["entries"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert errors == []
    everything = [e["seq"] for e in hub.whole_feed(key)]
    assert len(everything) == writers * cases_each
    assert seen == everything  # nothing skipped, nothing repeated, in order


def test_variant_hashes_travel_through_the_feed_marked(hub: RunningHub) -> None:
    key = hub.participant("Example")
    hub.create_case([pdq(PDQ_A), {**pdq(PDQ_B), "variant": "crop050"}])
    entries = hub.feed(key)["entries"]
    assert [(e["value"], e["variant"]) for e in entries] == [(PDQ_A, None), (PDQ_B, "crop050")]
    assert entries[0]["item"] == entries[1]["item"]

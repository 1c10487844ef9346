"""Flood safeguards: abnormal case creation is held back from every feed (JSON, binary,
StopNCII) for staff review; release appends it after what is there, reject withdraws it; the
`redress hold` commands; events and metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from redress.db import make_engine, make_session_factory, unit_of_work
from redress.feed.wire import decode_block, iter_frames
from redress.hub.models import Event, Hold, Intake
from tests.hub.conftest import RunningHub, hub_settings, pdq, serve

SRC = Path(__file__).resolve().parents[2] / "src"


def _hex(n: int) -> str:
    return f"{n:064x}"


def _values_in_feeds(running: RunningHub, key: str) -> dict[str, list[str]]:
    """The PDQ values each feed shows: JSON feed adds, binary feed adds, StopNCII active."""
    json_feed = [e["value"] for e in running.whole_feed(key) if e["op"] == "add"]
    response = running.client.get("/v1/feed.bin", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    binary = [
        e.value
        for frame in iter_frames(iter([response.content]))
        for e in decode_block(frame).entries()
        if e.op == "add"
    ]
    fetched = running.client.get(
        "/stopncii/v1/FetchHashes",
        headers={"Ocp-Apim-Subscription-Key": key, "x-functions-key": key},
    )
    assert fetched.status_code == 200
    stopncii = [r["hashValue"] for r in fetched.json()["hashRecords"]]
    return {"json": json_feed, "binary": binary, "stopncii": stopncii}


def _redress(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"REDRESS_DATABASE_URL": url, "PATH": os.environ["PATH"], "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "redress", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _item_statuses(running: RunningHub, created: dict[str, Any]) -> list[str]:
    response = running.client.post(
        f"/v1/cases/{created['case_number']}/status", json={"pin": created["pin"]}
    )
    assert response.status_code == 200
    return [item["status"] for item in response.json()["items"]]


def _events(url: str, prefix: str) -> list[tuple[str, str, dict[str, Any]]]:
    engine = make_engine(url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            rows = session.scalars(
                select(Event).where(Event.action.startswith(prefix)).order_by(Event.id)
            )
            return [(e.action, e.subject, json.loads(e.details)) for e in rows]
    finally:
        engine.dispose()


METRICS_TOKEN = "flood-metrics-token"
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def test_many_cases_from_one_source_are_held_then_released_after_existing_entries(
    database_url: str,
) -> None:
    for running in serve(
        hub_settings(database_url, flood_cases_per_source=2, metrics_token=METRICS_TOKEN)
    ):
        key = running.participant("Platform")
        first = running.create_case([pdq(_hex(1))])
        running.create_case([pdq(_hex(2))])
        held = running.create_case([pdq(_hex(3)), pdq(_hex(4))])  # the third from this address
        assert _item_statuses(running, held) == ["checking"]
        assert _item_statuses(running, first) == ["active"]
        for name, values in _values_in_feeds(running, key).items():
            assert _hex(1) in values and _hex(2) in values, name
            assert _hex(3) not in values and _hex(4) not in values, name
        metrics = running.client.get("/metrics", headers=METRICS_AUTH).text
        assert "redress_held_signals 2.0" in metrics
        assert 'redress_pending_holds{reason="source"} 1.0' in metrics

        listing = _redress(database_url, "hold", "list")
        assert listing.returncode == 0, listing.stderr
        row = next(line for line in listing.stdout.splitlines() if "source" in line)
        assert row.split("│")[1].strip() == "1"  # hold id
        assert [cell.strip() for cell in row.split("│")[4:6]] == ["1", "2"]  # cases, signals
        assert held["case_number"] not in listing.stdout

        # The feed moves on (a withdrawal) while the hold waits; release comes after it.
        withdrawn = running.client.post(
            f"/v1/cases/{first['case_number']}/withdraw", json={"pin": first["pin"]}
        )
        assert withdrawn.status_code == 200
        head = running.whole_feed(key)[-1]["seq"]
        released = _redress(database_url, "hold", "release", "1")
        assert released.returncode == 0, released.stderr
        assert "Released hold 1" in released.stderr
        tail = [e for e in running.whole_feed(key) if e["seq"] > head]
        assert [(e["op"], e["value"]) for e in tail] == [("add", _hex(3)), ("add", _hex(4))]
        assert _item_statuses(running, held) == ["active"]
        for name, values in _values_in_feeds(running, key).items():
            assert _hex(3) in values and _hex(4) in values, name
        again = _redress(database_url, "hold", "release", "1")
        assert again.returncode == 1 and "already released" in again.stderr
        assert (
            "redress_held_signals 0.0" in running.client.get("/metrics", headers=METRICS_AUTH).text
        )
    actions = [(a, s.split(":")[0]) for a, s, _ in _events(database_url, "hold.")]
    assert actions == [("hold.released", "hold")]
    held_events = _events(database_url, "items.held")
    assert [(d["reason"], d["hold"], d["signals"]) for _, _, d in held_events] == [("source", 1, 2)]


def test_a_rejected_hold_never_reaches_any_feed(database_url: str) -> None:
    for running in serve(hub_settings(database_url, flood_signals_per_request=3)):
        key = running.participant("Platform")
        running.create_case([pdq(_hex(1))])
        big = running.create_case([pdq(_hex(10)), pdq(_hex(11))], [pdq(_hex(12)), pdq(_hex(13))])
        assert _item_statuses(running, big) == ["checking", "checking"]
        # Items added to a held case join its hold, whatever their size.
        added = running.client.post(
            f"/v1/cases/{big['case_number']}/items",
            json={"pin": big["pin"], "items": [{"signals": [pdq(_hex(14))]}]},
        )
        assert [i["status"] for i in added.json()["items"]] == ["checking"] * 3
        listing = _redress(database_url, "hold", "list")
        assert "size" in listing.stdout and big["case_number"] not in listing.stdout
        rejected = _redress(database_url, "hold", "reject", "1")
        assert rejected.returncode == 0, rejected.stderr
        assert _item_statuses(running, big) == ["withdrawn"] * 3
        held_values = {_hex(n) for n in range(10, 15)}
        for name, values in _values_in_feeds(running, key).items():
            assert held_values.isdisjoint(values), name
        assert all(e["value"] not in held_values for e in running.whole_feed(key))
        assert "source" not in _redress(database_url, "hold", "list").stdout
        everything = _redress(database_url, "hold", "list", "--all")
        assert "rejected" in everything.stdout
        assert _redress(database_url, "hold", "reject", "7").returncode == 1
    assert [a for a, _, _ in _events(database_url, "hold.")] == ["hold.rejected"]


def test_hub_wide_volume_holds_and_the_source_is_stored_only_as_a_keyed_digest(
    database_url: str,
) -> None:
    for running in serve(hub_settings(database_url, flood_cases_per_hour=1)):
        key = running.participant("Platform")
        running.create_case([pdq(_hex(1))])
        second = running.create_case([pdq(_hex(2))])
        assert _item_statuses(running, second) == ["checking"]
        assert _hex(2) not in _values_in_feeds(running, key)["json"]
    engine = make_engine(database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            assert [h.reason for h in session.scalars(select(Hold))] == ["volume"]
            sources = set(session.scalars(select(Intake.source)))
    finally:
        engine.dispose()
    assert len(sources) == 1
    (source,) = sources
    assert source is not None and len(source) == 64 and "127.0.0.1" not in source

"""The flood safeguard: a bank signal that matches too many distinct uploads is quarantined on
the agent, reported to the hub through the outbox, listed and released by operators."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import func, select
from typer.testing import CliRunner

from redress.agent.check.service import CheckResult, Match
from redress.agent.config import HubConfig
from redress.agent.outbox.models import Outbox
from redress.agent.quarantine.models import QuarantinedSignal
from redress.agent.quarantine.service import Quarantine
from redress.cli.main import app
from redress.core.clock import ManualClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hashing.files import SignalRecord
from redress.hub.disputes.service import quarantined
from redress.hub.models import OvermatchReport
from tests.agent.conftest import TOKEN, Gate, migrate_agent, wait_for
from tests.agent.test_agent_features import near, random_pdq, run_agent
from tests.conftest import textured_image

FLOOD = {"REDRESS_AGENT_QUARANTINE_DISTINCT": "3", "REDRESS_AGENT_QUARANTINE_FLUSH_SECONDS": "0.1"}


def clock_at(seconds: float) -> ManualClock:
    """A clock standing at `seconds` past the Unix epoch until moved."""
    return ManualClock(datetime.fromtimestamp(seconds, UTC))


def metric(client: Any, line_start: str) -> float:
    """The value of the first Prometheus sample line starting with `line_start`."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {line_start}")


def hub_query(database_url: str, work: Any) -> Any:
    engine = make_engine(database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return work(session)
    finally:
        engine.dispose()


def reported_at_hub(database_url: str) -> int:
    return int(
        hub_query(
            database_url,
            lambda s: s.scalar(select(func.count()).select_from(OvermatchReport)),
        )
    )


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redress", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250", **env},
        timeout=60,
        check=False,
    )


def test_flood_is_quarantined_reported_kept_across_restarts_and_released(
    hub, agent_factory, database_url, tmp_path
):
    flood, steady = random_pdq(), random_pdq()
    hub.create_case([{"type": "pdq", "value": flood}], [{"type": "pdq", "value": steady}])
    key = hub.participant("ExamplePlatform")
    agent = agent_factory(hub, key, database=database_url, **FLOOD)
    wait_for(agent.ready, 60, "the first sync")

    def check(value: str, content: str) -> dict[str, Any]:
        return agent.check(signals=[{"type": "pdq", "value": near(value, 2)}], content_id=content)

    # Up to the threshold (3 distinct uploads), nothing changes; a repeat is not counted again.
    for content in ("c-1", "c-2", "c-1", "c-3", "c-2"):
        result = check(flood, content)
        assert result["decision"] == "review"
        assert result["matches"][0]["quarantined"] is False
    assert len(agent.client.get("/v1/reviews").json()["reviews"]) == 3
    assert agent.client.get("/v1/quarantine").json() == {"quarantined": []}
    assert metric(agent.client, "redress_agent_quarantined_signals") == 0

    # The 4th distinct upload tips it over: allowed, the match listed as quarantined, no review.
    for content in ("c-4", "c-5"):
        result = check(flood, content)
        assert result["decision"] == "allow" and result["reviews"] == []
        (match,) = result["matches"]
        assert match["quarantined"] is True and match["signal"]["value"] == flood
    assert len(agent.client.get("/v1/reviews").json()["reviews"]) == 3
    (entry,) = agent.client.get("/v1/quarantine").json()["quarantined"]
    assert entry["signal"] == {"type": "pdq", "value": flood}
    assert (entry["distinct_uploads"], entry["threshold"], entry["released_at"]) == (4, 3, None)
    assert metric(agent.client, "redress_agent_quarantined_signals") == 1
    assert metric(agent.client, 'redress_agent_quarantine_events_total{event="quarantined"}') == 1

    # The hub gets the report through the outbox and lists the signal for its staff.
    wait_for(lambda: reported_at_hub(database_url) == 1, 30, "the report at the hub")
    listed = cli("dispute", "list", REDRESS_DATABASE_URL=database_url)
    assert listed.returncode == 0 and flood[:20] in listed.stdout, listed.stderr
    assert "1 platform(s), up to 4 uploads" in listed.stdout
    wait_for(
        lambda: agent.client.get("/v1/quarantine").json()["quarantined"][0]["reported_at"],
        15,
        "the acknowledgement",
    )

    # Counts survive a restart: 2 distinct uploads before, 2 after, and the 4th quarantines.
    assert check(steady, "s-1")["decision"] == "review"
    assert check(steady, "s-2")["decision"] == "review"
    agent.stop()
    agent = agent_factory(hub, key, database=database_url, **FLOOD)
    wait_for(agent.ready, 60, "the sync after the restart")
    assert check(flood, "c-6")["matches"][0]["quarantined"] is True  # still quarantined
    assert check(steady, "s-3")["decision"] == "review"
    assert check(steady, "s-4")["decision"] == "allow"
    assert len(agent.client.get("/v1/quarantine").json()["quarantined"]) == 2

    # An operator releases the flood signal from the CLI: matches act again, counted from zero.
    auth = {"REDRESS_AGENT_URL": agent.url, "REDRESS_AGENT_TOKEN": TOKEN}
    released = cli("agent", "quarantine", "release", str(entry["id"]), **auth)
    assert released.returncode == 0, released.stderr
    for content in ("c-1", "c-2", "c-3"):
        assert check(flood, content)["decision"] == "review"
    again = agent.client.post(f"/v1/quarantine/{entry['id']}/release", json={"operator": "x"})
    assert again.status_code == 409 and again.json()["code"] == "already_released"
    listing = cli("agent", "quarantine", "list", "--released", "--json", **auth)
    assert listing.returncode == 0, listing.stderr
    by_value = {e["signal"]["value"]: e for e in json.loads(listing.stdout)["quarantined"]}
    assert by_value[flood]["released_by"] == "operator" and by_value[steady]["released_at"] is None
    (left,) = agent.client.get("/v1/quarantine").json()["quarantined"]
    assert left["signal"]["value"] == steady
    assert metric(agent.client, 'redress_agent_quarantine_events_total{event="released"}') == 1
    assert metric(agent.client, "redress_agent_quarantined_signals") == 1
    assert agent.client.post("/v1/quarantine/999/release").json()["code"] == "no_such_quarantine"


def test_the_window_slides_with_the_clock(hub, tmp_path):
    value = random_pdq()
    hub.create_case([{"type": "pdq", "value": value}])
    hubs = [HubConfig("hub", hub.url, hub.participant("P"))]
    with run_agent(tmp_path, hubs, quarantine_distinct=2, quarantine_window_seconds=600) as running:
        running.wait_ready()
        clock = clock_at(2_000_000_000.0)
        running.agent.quarantine.clock = clock

        def check(content: str) -> dict[str, Any]:
            body = {"signals": [{"type": "pdq", "value": value}], "content_id": content}
            return dict(running.client.post("/v1/check", json=body).json())

        assert check("a")["decision"] == "review"
        clock.advance(300)
        assert check("b")["decision"] == "review"
        clock.advance(301)  # "a" is out of the window: "b" and "c" make 2, not 3
        assert check("c")["decision"] == "review"
        assert running.agent.quarantine.counted("hub", "pdq", value) == 2
        clock.advance(100)  # "b" is 401 s old: still inside, so "d" is the third
        result = check("d")
        assert result["decision"] == "allow" and result["matches"][0]["quarantined"] is True
        listed = CliRunner().invoke(
            app,
            ["agent", "quarantine", "list", "--url", running.url, "--token", TOKEN],
            env={"COLUMNS": "250"},
        )
        assert listed.exit_code == 0 and value[:40] in listed.output and "3/600s" in listed.output


def _photo_copies(tmp_path: Path) -> list[Path]:
    """The same generated picture saved three times: twice the very same bytes, once
    re-encoded (different bytes, near-identical PDQ)."""
    picture = textured_image(640, 480, 5)
    first, same, other = tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path / "c.jpg"
    picture.save(first, quality=92)
    same.write_bytes(first.read_bytes())
    picture.save(other, quality=60)
    return [first, same, other]


def test_uploads_count_by_content_and_the_report_waits_for_the_hub(hub, tmp_path):
    from redress.hashing.files import HashOptions, hash_file

    first, same, other = _photo_copies(tmp_path)
    (pdq,) = hash_file(first, HashOptions(types=("pdq",))).signals
    hub.create_case([{"type": "pdq", "value": pdq.value}])
    gate = Gate(int(hub.url.rsplit(":", 1)[1]))
    try:
        hubs = [HubConfig("hub", f"http://127.0.0.1:{gate.port}", hub.participant("P"))]
        with run_agent(tmp_path, hubs, quarantine_distinct=1) as running:
            running.wait_ready()
            gate.cut()  # the hub is unreachable from here on

            def upload(path: Path, content: str) -> dict[str, Any]:
                with path.open("rb") as file:
                    response = running.client.post(
                        "/v1/check", files={"file": (path.name, file)}, data={"content_id": content}
                    )
                assert response.status_code == 200, response.text
                return dict(response.json())

            # The same bytes under two content ids are one upload: no quarantine.
            assert upload(first, "u-1")["decision"] == "review"
            assert upload(same, "u-2")["decision"] == "review"
            result = upload(other, "u-3")  # different bytes: the second distinct upload
            assert result["decision"] == "allow"
            assert all(m["quarantined"] for m in result["matches"])

            def pending() -> float:
                return metric(running.client, "redress_agent_outbox_pending")

            wait_for(lambda: pending() >= 1, 10, "the report to be held")
            assert reported_at_hub(hub.settings.database_url) == 0
            gate.restore()
            wait_for(lambda: reported_at_hub(hub.settings.database_url) == 1, 60, "delivery")
            wait_for(lambda: pending() == 0, 10, "an empty outbox")
            signals = hub_query(
                hub.settings.database_url, lambda s: [x.value for x in quarantined(s)]
            )
            assert signals == [pdq.value]
    finally:
        gate.close()


def test_racing_threads_count_exactly_and_quarantine_once(tmp_path):
    engine = make_engine(migrate_agent(f"sqlite:///{tmp_path / 'agent.db'}"))
    sessions = make_session_factory(engine)
    quarantine = Quarantine(
        lambda: unit_of_work(sessions), CollectorRegistry(), threshold=5, window_seconds=60
    )
    match = Match("hub", "pdq", "ab" * 32, ("i_1",), 3, "block")
    barrier = threading.Barrier(12)
    results: list[CheckResult] = []

    def one(number: int) -> None:
        result = CheckResult("block", [match], signals=[SignalRecord("md5", f"{number:032x}")])
        barrier.wait()
        quarantine.observe(result, None)
        results.append(result)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flags = [r.matches[0].quarantined for r in results]
    assert flags.count(False) == 5 and flags.count(True) == 7
    with unit_of_work(sessions) as session:
        (row,) = session.scalars(select(QuarantinedSignal))
        assert row.distinct_uploads == 6
        (report,) = session.scalars(select(Outbox))
        assert report.feedback == "Overmatching"
    assert quarantine.mark([match])[0].quarantined is True
    quarantine.release(row.id, "test")
    assert quarantine.mark([match])[0].quarantined is False
    assert quarantine.counted("hub", "pdq", "ab" * 32) == 0
    engine.dispose()


def test_a_flush_persists_counts_and_expired_ones_are_dropped(tmp_path):
    engine = make_engine(migrate_agent(f"sqlite:///{tmp_path / 'agent.db'}"))
    sessions = make_session_factory(engine)
    clock = clock_at(1_000_000.0)

    def fresh() -> Quarantine:
        return Quarantine(
            lambda: unit_of_work(sessions),
            CollectorRegistry(),
            threshold=10,
            window_seconds=100,
            clock=clock,
        )

    first = fresh()
    match = Match("hub", "pdq", "cd" * 32, ("i_1",), 0, "review")
    for number in range(4):
        first.observe(CheckResult("review", [match], signals=[]), f"content-{number}")
        clock.advance(30)
    first.flush()
    assert fresh().counted("hub", "pdq", "cd" * 32) == 4 - 1  # the first is 120 s old
    clock.advance(200)
    assert fresh().counted("hub", "pdq", "cd" * 32) == 0
    engine.dispose()

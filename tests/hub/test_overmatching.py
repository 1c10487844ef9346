"""`POST /v1/overmatching`: a platform's agent reports a signal that matched too many distinct
uploads; the hub records it, lists it for staff and counts it as a dispute."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import select

from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hub.models import Event
from redress.hub.participants.schemas import Scope
from tests.hub.conftest import PDQ_A, PDQ_B, RunningHub, pdq


def _report(hub: RunningHub, key: str | None, *values: str, uploads: int = 101) -> dict:  # type: ignore[type-arg]
    response = hub.client.post(
        "/v1/overmatching",
        json={
            "reports": [
                {"type": "pdq", "value": v, "distinct_uploads": uploads, "window_seconds": 3600}
                for v in values
            ]
        },
        headers={"Authorization": f"Bearer {key}"} if key else {},
    )
    return {"status": response.status_code, **response.json()}


def _disputes(database_url: str) -> str:
    env = {**os.environ, "REDRESS_DATABASE_URL": database_url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "redress", "dispute", "list"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout


def test_reports_need_a_key_with_feedback_scope_and_valid_bodies(hub: RunningHub) -> None:
    hub.create_case([pdq(PDQ_A)])
    assert _report(hub, None, PDQ_A)["code"] == "missing_key"
    reader = hub.participant("Reader", (Scope.FEED_READ,))
    refused = _report(hub, reader, PDQ_A)
    assert (refused["status"], refused["code"]) == (403, "missing_scope")
    key = hub.participant("One")
    bad = _report(hub, key, PDQ_A, "not-a-hash")
    assert bad["status"] == 422 and "report 1" in bad["detail"]
    assert _report(hub, key, PDQ_A, uploads=0)["status"] == 422
    assert _report(hub, key, PDQ_B) == {
        "status": 200,
        "recorded": 0,
        "unknown": [0],
        "quarantined": [],
    }


def test_a_report_is_an_event_listed_for_staff_and_two_platforms_quarantine(
    hub: RunningHub,
) -> None:
    hub.create_case([pdq(PDQ_A)])
    reader = hub.participant("Reader", (Scope.FEED_READ,))
    one, two = hub.participant("One"), hub.participant("Two")
    assert _report(hub, one, PDQ_A, uploads=250)["quarantined"] == []
    # One platform's report: staff see it at once, the signal stays on the feed.
    listed = _disputes(hub.settings.database_url)
    assert PDQ_A[:20] in listed and "1 platform(s), up to 250 uploads" in listed
    assert hub.whole_feed(reader)[-1]["op"] == "add"
    engine = make_engine(hub.settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            (event,) = session.scalars(
                select(Event).where(Event.action == "signal.overmatch_reported")
            )
            assert json.loads(event.details) == {"distinct_uploads": 250, "window_seconds": 3600.0}
    finally:
        engine.dispose()
    # The same platform again (its latest report counts) is not a second dispute; another is.
    assert _report(hub, one, PDQ_A)["quarantined"] == []
    assert _report(hub, two, PDQ_A)["quarantined"] == [0]
    last = hub.whole_feed(reader)[-1]
    assert (last["op"], last["reason"], last["value"]) == ("remove", "quarantine", PDQ_A)
    assert "2 platform(s), up to 101 uploads" in _disputes(hub.settings.database_url)


def test_a_report_and_a_not_blocked_verdict_add_up(hub: RunningHub) -> None:
    hub.create_case([pdq(PDQ_A)])
    one, two = hub.participant("One"), hub.participant("Two")
    verdict = hub.client.post(
        "/v1/feedback",
        json={"feedback": [{"type": "pdq", "value": PDQ_A, "feedback": "NotBlocked"}]},
        headers={"Authorization": f"Bearer {one}"},
    )
    assert verdict.json()["disputed"] == []
    assert _report(hub, two, PDQ_A)["quarantined"] == [0]

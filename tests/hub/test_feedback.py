"""Feedback from platforms, outcomes on the survivor's status, and dispute quarantine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from redress.hub.participants.schemas import Scope
from tests.hub.conftest import PDQ_A, PDQ_B, RunningHub, hub_settings, pdq, serve

#: The code under test, for the `redress` subprocesses (not whatever is installed).
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _feedback(hub: RunningHub, key: str, value: str, verdict: str, **extra: object) -> dict:  # type: ignore[type-arg]
    response = hub.client.post(
        "/v1/feedback",
        json={"feedback": [{"type": "pdq", "value": value, "feedback": verdict, **extra}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _status(hub: RunningHub, case: dict) -> dict:  # type: ignore[type-arg]
    return dict(
        hub.client.post(
            f"/v1/cases/{case['case_number']}/status", json={"pin": case["pin"]}
        ).json()["items"][0]
    )


def test_latest_feedback_per_platform_counts_in_the_status(hub: RunningHub) -> None:
    case = hub.create_case([pdq(PDQ_A)])
    one, two = hub.participant("One"), hub.participant("Two")
    _feedback(hub, one, PDQ_A, "PendingReview", tags=["upload"])
    _feedback(hub, two, PDQ_A, "PendingReview")
    item = _status(hub, case)
    assert (item["platforms_matched"], item["platforms_reviewing"]) == (2, 2)
    _feedback(hub, one, PDQ_A, "Blocked")
    item = _status(hub, case)
    assert item["platforms_matched"] == 2
    assert item["platforms_removed"] == 1
    assert item["platforms_reviewing"] == 1


def test_unknown_signals_are_reported_not_stored(hub: RunningHub) -> None:
    key = hub.participant("One")
    result = _feedback(hub, key, PDQ_B, "Blocked")
    assert result == {"recorded": 0, "unknown": [0], "disputed": []}


def test_two_not_blocked_and_no_blocked_quarantines_and_staff_can_restore(
    database_url: str,
) -> None:
    for hub in serve(hub_settings(database_url)):
        reader = hub.participant("Reader", (Scope.FEED_READ,))
        case = hub.create_case([pdq(PDQ_A)])
        one, two = hub.participant("One"), hub.participant("Two")
        assert _feedback(hub, one, PDQ_A, "NotBlocked")["disputed"] == []
        assert _feedback(hub, two, PDQ_A, "NotBlocked")["disputed"] == [0]
        last = hub.whole_feed(reader)[-1]
        assert (last["op"], last["reason"], last["value"]) == ("remove", "quarantine", PDQ_A)
        assert _status(hub, case)["disputed"] is True
        env = {"REDRESS_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "PYTHONPATH": SRC}
        listed = subprocess.run(
            [sys.executable, "-m", "redress", "dispute", "list"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert PDQ_A[:20] in listed.stdout
        subprocess.run(
            [sys.executable, "-m", "redress", "dispute", "restore", "pdq", PDQ_A],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        last = hub.whole_feed(reader)[-1]
        assert (last["op"], last["reason"]) == ("add", "restored")
        # Reviewed and confirmed: a third NotBlocked does not quarantine it again.
        three = hub.participant("Three")
        assert _feedback(hub, three, PDQ_A, "NotBlocked")["disputed"] == []


def test_one_blocked_prevents_a_dispute(hub: RunningHub) -> None:
    hub.create_case([pdq(PDQ_A)])
    keys = [hub.participant(name) for name in ("One", "Two", "Three")]
    _feedback(hub, keys[0], PDQ_A, "Blocked")
    _feedback(hub, keys[1], PDQ_A, "NotBlocked")
    assert _feedback(hub, keys[2], PDQ_A, "NotBlocked")["disputed"] == []

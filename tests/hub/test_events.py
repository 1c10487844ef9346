"""The append-only event record, and idempotency under concurrent retries."""

from __future__ import annotations

import json
import threading

import httpx
from sqlalchemy import select

from redress.db import make_engine, make_session_factory
from redress.hub.models import Case, Event
from tests.hub.conftest import PDQ_A, RunningHub, pdq


def _events(hub: RunningHub) -> list[Event]:
    engine = make_engine(hub.settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(Event).order_by(Event.id)))
    finally:
        engine.dispose()


def test_state_changes_are_recorded_without_credentials(hub: RunningHub) -> None:
    key = hub.participant("Evented")
    case = hub.create_case([pdq(PDQ_A)])
    number, pin = case["case_number"], case["pin"]
    hub.client.post(f"/v1/cases/{number}/contact", json={"pin": pin, "email": "me@x.org"})
    hub.client.post(
        "/v1/feedback",
        json={"feedback": [{"type": "pdq", "value": PDQ_A, "feedback": "Blocked"}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    hub.client.post(f"/v1/cases/{number}/withdraw", json={"pin": pin})
    events = _events(hub)
    actions = [e.action for e in events]
    for expected in (
        "participant.added",
        "key.issued",
        "case.created",
        "item.added",
        "contact.set",
        "feedback.recorded",
        "item.withdrawn",
        "case.withdrawn",
    ):
        assert expected in actions
    assert all(e.actor and e.subject and e.at for e in events)
    dump = json.dumps([[e.actor, e.action, e.subject, e.details] for e in events])
    for secret in (number, pin, key, "me@x.org", PDQ_A):
        assert secret not in dump


def test_simultaneous_retries_create_one_case(hub: RunningHub) -> None:
    version = hub.statement_version()
    answers: list[dict[str, str]] = []
    body = {
        "statement_version": version,
        "items": [{"signals": [pdq(PDQ_A)]}],
        "idempotency_key": "same-key-for-all-retries",
    }

    def submit() -> None:
        with httpx.Client(base_url=hub.url, timeout=60) as client:
            response = client.post("/v1/cases", json=body)
            assert response.status_code == 201, response.text
            answers.append(response.json())

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4
    assert len({(a["case_number"], a["pin"]) for a in answers}) == 1
    engine = make_engine(hub.settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            assert len(list(session.scalars(select(Case)))) == 1
    finally:
        engine.dispose()

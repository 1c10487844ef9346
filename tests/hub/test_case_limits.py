"""Case creation under load: size limits, bulk statements (constant in the number of items and
signals), and a busy database answered 503 with Retry-After, never 500."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from redress.core.clock import SystemClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hub.bank.service import ValidSignal
from redress.hub.cases import service as cases
from redress.hub.models import Case, FeedEntry, ItemSignal, Signal
from redress.hub.secrets_box import SecretBox
from tests.hub.conftest import MD5_A, PDQ_A, RunningHub, hub_settings, pdq, serve


def _hex(n: int) -> str:
    return f"{n:064x}"


def _items(count: int, per_item: int, start: int = 1) -> list[dict[str, Any]]:
    return [
        {"signals": [pdq(_hex(start + i * per_item + j)) for j in range(per_item)]}
        for i in range(count)
    ]


def _body(running: RunningHub, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"statement_version": running.statement_version(), "items": items}


def test_too_many_signals_in_one_item_is_refused_with_the_limit(database_url: str) -> None:
    for running in serve(hub_settings(database_url, max_signals_per_item=4)):
        items = _items(1, 4) + _items(1, 5, start=100)
        response = running.client.post("/v1/cases", json=_body(running, items))
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "too_many_signals"
        assert "item 2 has 5 signals; at most 4 per item" in body["detail"]
        assert (
            running.client.post("/v1/cases", json=_body(running, _items(2, 4))).status_code == 201
        )


def test_a_case_holds_at_most_max_items_per_case_counting_later_additions(
    database_url: str,
) -> None:
    for running in serve(hub_settings(database_url, max_items_per_case=3)):
        over = running.client.post("/v1/cases", json=_body(running, _items(4, 1)))
        assert over.status_code == 413 and over.json()["code"] == "case_full"
        assert "at most 3 items" in over.json()["detail"]
        created = running.create_case([pdq(_hex(1))], [pdq(_hex(2))])
        number, pin = created["case_number"], created["pin"]
        added = running.client.post(
            f"/v1/cases/{number}/items", json={"pin": pin, "items": _items(1, 1, start=10)}
        )
        assert added.status_code == 200 and len(added.json()["items"]) == 3
        full = running.client.post(
            f"/v1/cases/{number}/items", json={"pin": pin, "items": _items(1, 1, start=20)}
        )
        assert full.status_code == 413
        assert full.json()["code"] == "case_full"
        assert "already has 3 items" in full.json()["detail"]
        assert "new case" in full.json()["detail"]


def test_the_portal_explains_a_full_case_in_the_readers_language(database_url: str) -> None:
    for running in serve(hub_settings(database_url, max_items_per_case=1)):
        page = running.client.get("/submit", headers={"Accept-Language": "es"})
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        response = running.client.post(
            "/submit",
            data={
                "csrf": token.group(1),
                "payload": json.dumps(
                    {
                        "items": [
                            {"signals": [{"type": "md5", "value": v}]} for v in (MD5_A, "b" * 32)
                        ]
                    }
                ),
                "statement_version": running.statement_version(),
                "idempotency_key": "portal-key-123",
                "agree": "yes",
            },
            headers={"Accept-Language": "es"},
        )
        assert response.status_code == 413
        assert "Este caso no puede contener más archivos" in response.text


def test_the_body_limit_answers_413_with_what_to_do(database_url: str) -> None:
    for running in serve(hub_settings(database_url, max_request_bytes=4096)):
        response = running.client.post("/v1/cases", json=_body(running, _items(20, 4)))
        assert response.status_code == 413
        assert response.json()["code"] == "request_too_large"
        assert "4,096 bytes" in response.json()["detail"]


@contextmanager
def _counted(url: str) -> Iterator[tuple[Any, list[str]]]:
    engine = make_engine(url)
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    try:
        yield make_session_factory(engine), statements
    finally:
        engine.dispose()


def _create(sessions: Any, items: list[list[ValidSignal]], statements: list[str]) -> int:
    settings = hub_settings("sqlite://")
    box = SecretBox(b"k" * 32)
    statements.clear()
    with unit_of_work(sessions) as session:
        cases.create_case(
            session,
            settings=settings,
            box=box,
            statement_version=settings.statement_version,
            items=items,
            idempotency_key=None,
            client="192.0.2.1",
            clock=SystemClock(),
        )
    return len(statements)


def _valid(count: int, per_item: int, start: int) -> list[list[ValidSignal]]:
    return [
        [ValidSignal("pdq", _hex(start + i * per_item + j), 100, None) for j in range(per_item)]
        for i in range(count)
    ]


def test_case_creation_takes_the_same_number_of_statements_however_big(
    database_url: str,
) -> None:
    with _counted(database_url) as (sessions, statements):
        small = _create(sessions, _valid(1, 1, start=1), statements)
        _create(sessions, _valid(20, 14, start=1000), statements)
        # 40 items x 14 signals (a big portal case), 140 of them already in the bank.
        big = _create(sessions, _valid(40, 14, start=1000 + 10 * 14), statements)
        with unit_of_work(sessions) as session:
            assert session.scalar(select(func.count()).select_from(Signal)) == 1 + 280 + 560 - 140
            assert session.scalar(select(func.count()).select_from(ItemSignal)) == 1 + 280 + 560
            assert session.scalar(select(func.count()).select_from(FeedEntry)) == 1 + 280 + 560
            assert set(session.scalars(select(Signal.status))) == {"active"}
    assert big == small, "statements must not grow with items or signals"


def test_withdrawing_a_case_takes_the_same_number_of_statements_however_big(
    database_url: str,
) -> None:
    counts = []
    with _counted(database_url) as (sessions, statements):
        for size, start in ((1, 1), (40, 1000)):
            _create(sessions, _valid(size, 14, start=start), statements)
            with unit_of_work(sessions) as session:
                case_id = session.scalars(select(Case.id).order_by(Case.id.desc())).first()
            statements.clear()
            with unit_of_work(sessions) as session:
                case = session.get(Case, case_id)
                assert case is not None
                cases.withdraw(session, case, None, clock=SystemClock())
                cases.case_status(session, case)
            counts.append(len(statements))
        with unit_of_work(sessions) as session:
            removes = session.scalars(select(FeedEntry.op).where(FeedEntry.op == "remove"))
            assert len(list(removes)) == 14 + 40 * 14
            assert set(session.scalars(select(Signal.status))) == {"withdrawn"}
    assert counts[0] == counts[1]


def test_a_locked_sqlite_database_answers_503_busy_with_retry_after(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    from tests.hub.conftest import _migrate

    _migrate(url)
    for running in serve(hub_settings(url, database_lock_timeout_seconds=0.2)):
        created = running.create_case([pdq(PDQ_A)])
        signed_in = _portal_sign_in(running, created)
        version = running.statement_version()
        blocker = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        try:
            response = running.client.post(
                "/v1/cases", json={"statement_version": version, "items": _items(1, 1)}
            )
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "busy"
            assert int(response.headers["retry-after"]) > 0
            status = running.client.post(
                f"/v1/cases/{created['case_number']}/status", json={"pin": created["pin"]}
            )
            assert status.status_code == 503 and status.json()["code"] == "busy"
            running.client.cookies.update(signed_in)
            page = running.client.get("/status/case", headers={"Accept-Language": "fr"})
            assert page.status_code == 503 and "retry-after" in page.headers
            assert "Le service est très sollicité" in page.text
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        again = running.client.post(
            "/v1/cases", json={"statement_version": version, "items": _items(1, 1)}
        )
        assert again.status_code == 201


def _portal_sign_in(running: RunningHub, created: dict[str, Any]) -> dict[str, str]:
    page = running.client.get("/status")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    response = running.client.post(
        "/status",
        data={"csrf": token.group(1), "case_number": created["case_number"], "pin": created["pin"]},
    )
    assert response.status_code == 303
    cookies = {"redress_case": response.cookies["redress_case"]}
    running.client.cookies.clear()
    return cookies


@pytest.mark.parametrize("sqlstate", ["40001", "40P01", "55P03"])
def test_postgresql_lock_and_serialisation_errors_count_as_busy(sqlstate: str) -> None:
    from sqlalchemy.exc import OperationalError

    from redress.web.busy import is_busy

    class _DriverError(Exception):
        pass

    failure = _DriverError("could not obtain lock")
    failure.sqlstate = sqlstate  # type: ignore[attr-defined]
    assert is_busy(OperationalError("SELECT 1", {}, failure))
    other = _DriverError("connection refused")
    other.sqlstate = "08006"  # type: ignore[attr-defined]
    assert not is_busy(OperationalError("SELECT 1", {}, other))

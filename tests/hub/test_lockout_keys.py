"""Lock-outs are counted per case number: typos and malformed numbers each count on their own,
so one person's mistyping cannot lock out everyone else's."""

from __future__ import annotations

import httpx

from redress.hub.cases.credentials import new_case_number
from tests.hub.conftest import hub_settings, pdq, serve


def answers(client: httpx.Client, number: str, times: int) -> list[str]:
    return [
        client.post(f"/v1/cases/{number}/status", json={"pin": "00000000"}).json()["code"]
        for _ in range(times)
    ]


def test_each_malformed_number_is_locked_on_its_own(database_url: str) -> None:
    for running in serve(hub_settings(database_url, pin_free_tries=3)):
        case = running.create_case([pdq()])
        client = running.client
        assert answers(client, "NOT-A-CASE-1", 4) == ["wrong_case_or_pin"] * 3 + ["locked"]
        assert answers(client, "NOT-A-CASE-2", 1) == ["wrong_case_or_pin"]
        assert answers(client, new_case_number(), 1) == ["wrong_case_or_pin"]
        own = client.post(f"/v1/cases/{case['case_number']}/status", json={"pin": case["pin"]})
        assert own.status_code == 200, own.text

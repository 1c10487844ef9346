"""Survivor cases over HTTP: create, status, add, withdraw, contact, idempotency, lock-out."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redress.hub.cases.credentials import ALPHABET, new_case_number, normalise_case_number
from tests.hub.conftest import MD5_A, PDQ_A, PDQ_B, RunningHub, hub_settings, pdq, serve


def test_statement_is_versioned_and_configurable(database_url: str) -> None:
    for running in serve(
        hub_settings(database_url, statement_version="v9", statement_text="My own wording.")
    ):
        assert running.client.get("/v1/statement").json() == {
            "version": "v9",
            "text": "My own wording.",
        }


def test_create_case_returns_credentials_once_and_status_shows_items(hub: RunningHub) -> None:
    created = hub.create_case([pdq(PDQ_A)], [{"type": "md5", "value": MD5_A.upper()}])
    assert normalise_case_number(created["case_number"]) == created["case_number"]
    assert len(created["pin"]) == 8 and created["pin"].isdigit()
    status = hub.client.post(
        f"/v1/cases/{created['case_number']}/status", json={"pin": created["pin"]}
    )
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "active"
    assert [i["signals"] for i in body["items"]] == [1, 1]
    assert all(i["platforms_matched"] == 0 for i in body["items"])
    assert status.headers["cache-control"] == "no-store"
    # The case number may be typed in lower case and without dashes.
    sloppy = created["case_number"].replace("-", " ").lower()
    again = hub.client.post(f"/v1/cases/{sloppy}/status", json={"pin": created["pin"]})
    assert again.status_code == 200


def test_outdated_statement_is_refused(hub: RunningHub) -> None:
    response = hub.client.post(
        "/v1/cases", json={"statement_version": "old", "items": [{"signals": [pdq()]}]}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "statement_changed"


@pytest.mark.parametrize(
    ("signal", "code", "needle"),
    [
        (pdq(quality=30), "low_quality", "quality 30 is below 50"),
        ({"type": "pdq", "value": PDQ_A[:-2]}, "invalid_signal", "62 hexadecimal characters"),
        ({"type": "phash", "value": PDQ_A}, "invalid_signal", "Unknown signal type"),
    ],
)
def test_bad_signals_are_refused_with_a_clear_error(
    hub: RunningHub, signal: dict[str, object], code: str, needle: str
) -> None:
    response = hub.client.post(
        "/v1/cases",
        json={"statement_version": hub.statement_version(), "items": [{"signals": [signal]}]},
    )
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert needle in response.json()["detail"]
    assert "item 1, signal 1" in response.json()["detail"]


def test_malformed_request_gets_invalid_request_code(hub: RunningHub) -> None:
    response = hub.client.post("/v1/cases", json={"items": "nope"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert "statement_version" in response.json()["detail"]


def test_idempotent_retry_returns_the_same_case(hub: RunningHub) -> None:
    first = hub.create_case([pdq()], idempotency_key="retry-key-123456")
    second = hub.create_case([pdq()], idempotency_key="retry-key-123456")
    assert first == second
    other = hub.client.post(
        "/v1/cases",
        json={
            "statement_version": hub.statement_version(),
            "items": [{"signals": [pdq(PDQ_B)]}],
            "idempotency_key": "retry-key-123456",
        },
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    via_header = hub.client.post(
        "/v1/cases",
        json={"statement_version": hub.statement_version(), "items": [{"signals": [pdq()]}]},
        headers={"Idempotency-Key": "retry-key-123456"},
    )
    assert via_header.json() == first


def test_add_items_and_withdraw_one_then_all(hub: RunningHub) -> None:
    case = hub.create_case([pdq(PDQ_A)])
    number, pin = case["case_number"], case["pin"]
    added = hub.client.post(
        f"/v1/cases/{number}/items", json={"pin": pin, "items": [{"signals": [pdq(PDQ_B)]}]}
    )
    assert added.status_code == 200
    refs = [i["item"] for i in added.json()["items"]]
    assert len(refs) == 2
    one = hub.client.post(f"/v1/cases/{number}/withdraw", json={"pin": pin, "item": refs[0]})
    assert [i["status"] for i in one.json()["items"]] == ["withdrawn", "active"]
    everything = hub.client.post(f"/v1/cases/{number}/withdraw", json={"pin": pin})
    assert everything.json()["status"] == "withdrawn"
    assert [i["status"] for i in everything.json()["items"]] == ["withdrawn", "withdrawn"]
    late = hub.client.post(
        f"/v1/cases/{number}/items", json={"pin": pin, "items": [{"signals": [pdq(PDQ_B)]}]}
    )
    assert late.status_code == 409
    unknown = hub.client.post(f"/v1/cases/{number}/withdraw", json={"pin": pin, "item": "i_x"})
    assert unknown.status_code == 409  # the case exists; it holds no such item
    assert unknown.json()["code"] == "unknown_item"


def test_contact_is_stored_and_deletable(hub: RunningHub) -> None:
    case = hub.create_case([pdq()])
    url = f"/v1/cases/{case['case_number']}/contact"
    bad = hub.client.post(url, json={"pin": case["pin"], "email": "not an email"})
    assert bad.json()["code"] == "invalid_email"
    stored = hub.client.post(url, json={"pin": case["pin"], "email": "me@example.org"})
    assert stored.json()["contact_on_file"] is True
    removed = hub.client.post(url, json={"pin": case["pin"], "email": None})
    assert removed.json()["contact_on_file"] is False


def test_wrong_pins_lock_the_case_and_unknown_numbers_alike(database_url: str) -> None:
    for running in serve(hub_settings(database_url, pin_free_tries=3)):
        case = running.create_case([pdq()])
        url = f"/v1/cases/{case['case_number']}/status"
        ghost = "/v1/cases/" + new_case_number() + "/status"
        for target in (url, ghost):
            answers = [
                running.client.post(target, json={"pin": "00000000"}).json()["code"]
                for _ in range(4)
            ]
            assert answers == ["wrong_case_or_pin"] * 3 + ["locked"], target
        locked_out = running.client.post(url, json={"pin": case["pin"]})
        assert locked_out.status_code == 429
        assert locked_out.json()["code"] == "locked"


def test_wrong_pins_from_one_client_are_limited_across_cases(database_url: str) -> None:
    for running in serve(hub_settings(database_url, client_pin_failures_per_hour=5)):
        codes = [
            running.client.post(
                f"/v1/cases/{new_case_number()}/status", json={"pin": "12345678"}
            ).json()["code"]
            for _ in range(6)
        ]
        assert codes[-1] == "locked"
        assert codes == ["wrong_case_or_pin"] * 5 + ["locked"]


def test_case_creation_is_rate_limited_per_client(database_url: str) -> None:
    for running in serve(hub_settings(database_url, case_creation_rate="2/minute")):
        running.create_case([pdq()])
        running.create_case([pdq(PDQ_B)])
        third = running.client.post(
            "/v1/cases",
            json={"statement_version": "x", "items": [{"signals": [pdq()]}]},
        )
        assert third.status_code == 429
        assert third.json()["code"] == "rate_limited"
        assert third.headers["retry-after"]


@given(st.data())
def test_check_character_catches_typos_and_swaps(data: st.DataObject) -> None:
    number = new_case_number()
    plain = number.replace("-", "")
    assert normalise_case_number(plain.lower()) == number
    position = data.draw(st.integers(0, len(plain) - 1))
    wrong = data.draw(st.sampled_from([c for c in ALPHABET if c != plain[position]]))
    typo = plain[:position] + wrong + plain[position + 1 :]
    assert normalise_case_number(typo) is None
    i = data.draw(st.integers(0, len(plain) - 2))
    if plain[i] != plain[i + 1]:
        swapped = plain[:i] + plain[i + 1] + plain[i] + plain[i + 2 :]
        assert normalise_case_number(swapped) is None


def test_case_numbers_use_no_look_alike_characters() -> None:
    numbers = {new_case_number() for _ in range(200)}
    assert len(numbers) == 200
    confusable = set("01IL5SOQBUVYZ") | set(string.ascii_lowercase)
    assert not any(set(n.replace("-", "")) & confusable for n in numbers)

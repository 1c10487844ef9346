"""One test per fix that schemathesis (or reading the OpenAPI document against the code) led to,
so each stays fixed without the fuzzer. Hub tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings
from sqlalchemy import text

from redress.hashing.errors import InvalidSignalError
from redress.hashing.json_schema import ALL_TYPES, type_pattern, value_pattern
from redress.hashing.signal_types import get_signal_type
from redress.hub.participants.schemas import Scope
from tests.agent.conftest import TOKEN
from tests.api.conftest import Apis, client
from tests.hub.conftest import MD5_A, PDQ_A, RunningHub, hub_settings, pdq, serve

MAX_INT64 = 2**63 - 1


def _error(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == code and isinstance(body["detail"], str)
    assert "Traceback" not in body["detail"]
    return dict(body)


# --- hub ----------------------------------------------------------------------------------


def test_a_cursor_past_64_bits_is_refused_not_a_server_error(hub: RunningHub) -> None:
    key = hub.participant("Platform")
    auth = {"Authorization": f"Bearer {key}"}
    for path in ("/v1/feed", "/v1/feed.bin"):
        response = hub.client.get(path, params={"cursor": "9999999999999999999"}, headers=auth)
        _error(response, 400, "bad_cursor")
    assert hub.client.get("/v1/feed", params={"cursor": "9" * 18}, headers=auth).json() == {
        "entries": [],
        "next_cursor": "9" * 18,
        "has_more": False,
    }


def test_stopncii_timestamps_past_64_bits_are_invalid(hub: RunningHub) -> None:
    key = hub.participant("Platform")
    response = hub.client.get(
        "/stopncii/v1/FetchHashes",
        params={"startTimestamp": MAX_INT64 + 1},
        headers={"Ocp-Apim-Subscription-Key": key},
    )
    _error(response, 422, "invalid_request")


def test_stopncii_page_tokens_are_what_the_schema_says(hub: RunningHub) -> None:
    key = hub.participant("Platform")
    hub.create_case([pdq()], [{"type": "md5", "value": MD5_A}])
    headers = {"Ocp-Apim-Subscription-Key": key}
    first = hub.client.get("/stopncii/v1/FetchHashes", params={"pageSize": 1}, headers=headers)
    token = first.json()["nextPageToken"]
    assert token is not None and token.replace(".", "").isdigit()
    second = hub.client.get(
        "/stopncii/v1/FetchHashes", params={"pageSize": 1, "nextPageToken": token}, headers=headers
    )
    pages = [
        first.json()["hashRecords"][0]["hashValue"],
        second.json()["hashRecords"][0]["hashValue"],
    ]
    assert sorted(pages) == sorted([PDQ_A, MD5_A])  # each once, over the two pages
    empty = hub.client.get(
        "/stopncii/v1/FetchHashes", params={"nextPageToken": ""}, headers=headers
    )
    assert empty.json()["count"] == 2  # an empty token is the first page
    bad = hub.client.get(
        "/stopncii/v1/FetchHashes", params={"nextPageToken": "MTox"}, headers=headers
    )
    _error(bad, 400, "bad_page_token")


def test_stopncii_bodies_of_the_wrong_shape_are_refused_not_a_server_error(
    hub: RunningHub,
) -> None:
    key = hub.participant("Platform", tuple(Scope))
    headers = {"Ocp-Apim-Subscription-Key": key}
    hub.create_case([pdq()])
    odd_tags = {"hashFeedbacks": [{"hashValue": PDQ_A, "feedbackValue": "Blocked", "tags": 5}]}
    response = hub.client.post("/stopncii/v1/SubmitFeedback", json=odd_tags, headers=headers)
    assert response.status_code == 200 and response.json() == {"count": 1, "skipped": []}
    for record in (
        {"signalType": "ImagePDQ", "hashValue": PDQ_A, "CSPFeedbacks": 5},
        {"signalType": "VideoMD5", "hashValue": int("1" * 32)},
    ):
        response = hub.client.post(
            "/stopncii/v1/SubmitHashes", json={"hashRecords": [record]}, headers=headers
        )
        _error(response, 422, "invalid_request")


def test_unknown_variant_names_are_refused_so_the_feed_stays_readable(hub: RunningHub) -> None:
    version = hub.statement_version()
    for variant in ("crop\x1d050", "x" * 20):
        body = {
            "statement_version": version,
            "items": [{"signals": [{**pdq(), "variant": variant}]}],
        }
        _error(hub.client.post("/v1/cases", json=body), 422, "invalid_request")
    good = {"statement_version": version, "items": [{"signals": [{**pdq(), "variant": "top85"}]}]}
    assert hub.client.post("/v1/cases", json=good).status_code == 201


def test_emails_are_checked_as_the_schema_describes(hub: RunningHub) -> None:
    case = hub.create_case([pdq()])
    path = f"/v1/cases/{case['case_number']}/contact"
    for bad in ("a@b@c", "@b", "a b@c"):
        _error(hub.client.post(path, json={"pin": case["pin"], "email": bad}), 422, "invalid_email")
    # Whitespace is ASCII whitespace, as JSON Schema reads the pattern too (not U+0085).
    for good in ("  a@example.org\n", "\u0097\u0085x@\u00e7"):
        ok = hub.client.post(path, json={"pin": case["pin"], "email": good})
        assert ok.status_code == 200, ok.text


def test_a_lock_out_says_how_long_in_the_header_and_the_body(database_url: str) -> None:
    for hub in serve(hub_settings(database_url, pin_free_tries=1, pin_backoff_base_seconds=600)):
        case = hub.create_case([pdq()])
        path = f"/v1/cases/{case['case_number']}/status"
        _error(hub.client.post(path, json={"pin": "00000000"}), 401, "wrong_case_or_pin")
        body = _error(hub.client.post(path, json={"pin": case["pin"]}), 429, "locked")
        locked = hub.client.post(path, json={"pin": case["pin"]})
        assert 0 < int(locked.headers["Retry-After"]) <= 600
        assert 0 < int(str(body["retry_after"])) <= 600


def test_a_body_that_is_not_text_is_an_invalid_request(hub: RunningHub) -> None:
    response = hub.client.post(
        "/v1/cases", content=b"\xff\xfe\x00", headers={"Content-Type": "application/json"}
    )
    _error(response, 422, "invalid_request")


def test_405_lists_every_method_of_the_path(hub: RunningHub) -> None:
    response = hub.client.request("PUT", "/status")
    _error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, POST"
    assert hub.client.request("TRACE", "/v1/feed").headers["Allow"] == "GET"


def test_the_document_describes_errors_and_authentication(hub: RunningHub) -> None:
    document = hub.client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
    feed = document["paths"]["/v1/feed"]["get"]
    assert feed["security"] == [{"platformKey": ["feed:read"]}]
    assert {"400", "401", "403", "422"} <= set(feed["responses"])
    assert document["paths"]["/stopncii/v1/SubmitHashes"]["post"]["security"] == [
        {"stopnciiSubscriptionKey": ["hashes:submit"]},
        {"stopnciiFunctionsKey": ["hashes:submit"]},
    ]
    create = document["components"]["schemas"]["CaseCreate"]["properties"]
    assert create["statement_version"]["enum"] == [hub.statement_version()]
    assert create["items"]["maxItems"] == hub.settings.max_items_per_request


# --- agent --------------------------------------------------------------------------------


def test_agent_out_of_range_ids_are_refused_as_json(apis: Apis) -> None:
    with client(apis.agent_url, Authorization=f"Bearer {TOKEN}") as agent:
        for method, path in (
            ("GET", "/v1/reviews/99999999999999999999/media"),
            ("POST", "/v1/reviews/99999999999999999999"),
            ("DELETE", "/v1/negative/99999999999999999999"),
            ("GET", "/v1/reviews?limit=99999999999999999999"),
            ("GET", "/v1/reviews?status=lost"),
        ):
            _error(
                agent.request(method, path, json={"decision": "Blocked"}), 422, "invalid_request"
            )


def test_agent_unexpected_errors_are_json_without_details(apis: Apis) -> None:
    with apis.agent.engine.begin() as connection:
        connection.execute(text("DROP TABLE agent_negative_bank"))
    with client(apis.agent_url, Authorization=f"Bearer {TOKEN}") as agent:
        body = _error(agent.get("/v1/negative"), 500, "internal_error")
    assert "agent_negative_bank" not in str(body["detail"])


def test_agent_405_lists_every_method_of_the_path(apis: Apis) -> None:
    with client(apis.agent_url) as agent:
        response = agent.request("OPTIONS", "/v1/negative")
    _error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, POST"


def test_agent_document_describes_check_bodies_and_the_token(apis: Apis) -> None:
    with client(apis.agent_url) as agent:
        document = agent.get("/openapi.json").json()
    check = document["paths"]["/v1/check"]["post"]
    assert set(check["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert check["security"] == [{"agentToken": []}]
    assert "CheckIn" in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["agentToken"]["scheme"] == "bearer"


# --- the schema's signal patterns match what the hashing core accepts ----------------------


@pytest.mark.parametrize("name", ALL_TYPES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_values_valid_by_the_schema_are_accepted_by_the_core(
    name: str, data: st.DataObject
) -> None:
    value = data.draw(st.from_regex(value_pattern(name)))
    kind = data.draw(st.from_regex(type_pattern(name)))
    assert get_signal_type(kind).name == name
    get_signal_type(name).normalize(value)


@pytest.mark.parametrize("name", ["pdq", "md5", "sha256"])
@settings(max_examples=200, deadline=None)
@given(value=st.text(alphabet="0123456789abcdefABCDEFxyz \n\t", max_size=70))
def test_hex_values_the_core_accepts_are_exactly_those_the_schema_allows(
    name: str, value: str
) -> None:
    try:
        get_signal_type(name).normalize(value)
        accepted = True
    except InvalidSignalError:
        accepted = False
    assert accepted == bool(re.search(value_pattern(name), value))

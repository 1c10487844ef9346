"""The authorisation matrix: every route of the hub and the agent (from `app.routes`, portal pages,
operations routes and static mounts included) x every kind of caller -> the status a well-formed
request gets. The expectations are data (`HUB` and `AGENT` below, one row per route); a route
without a row fails the test, so a new route cannot ship without saying who may call it.

Callers present every credential they have on every request (platform keys both as bearer token
and in StopNCII's header; sessions as cookies), over real HTTP.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from redress.hub.participants.schemas import Scope
from tests.agent.conftest import TOKEN
from tests.api.conftest import METRICS_TOKEN, Apis, client
from tests.hub.conftest import MD5_A, PDQ_A, PDQ_B

KEYS = tuple(f"key:{scope.value}" for scope in Scope)
CALLERS = (
    "anonymous",
    "survivor",
    *KEYS,
    "revoked_key",
    "agent_token",
    "wrong_agent_token",
    "moderator",
    "expired_session",
    "ended_session",
    "metrics_token",
)
CSRF = "csrf-token-for-the-authorisation-matrix"
MODERATOR = "matrix moderator"
Expected = int | frozenset[int]


# --- expectations -------------------------------------------------------------------------


def everyone(status: Expected) -> dict[str, Expected]:
    """The same answer whoever calls."""
    return dict.fromkeys(CALLERS, status)


def only(callers: tuple[str, ...], yes: Expected, no: Expected) -> dict[str, Expected]:
    """`yes` for these callers, `no` for everyone else."""
    return {caller: yes if caller in callers else no for caller in CALLERS}


def scoped(scope: Scope, yes: Expected = 200) -> dict[str, Expected]:
    """A platform key with `scope`: `yes`; another valid key: 403; anything else: 401."""
    return {
        caller: yes if caller == f"key:{scope.value}" else 403 if caller in KEYS else 401
        for caller in CALLERS
    }


def survivor(yes: Expected) -> dict[str, Expected]:
    """A signed-in survivor: `yes`; anyone else is shown the sign-in page again (401)."""
    return only(("survivor",), yes, 401)


def agent_token(yes: Expected = 200) -> dict[str, Expected]:
    """The agent's token: `yes`; anyone else (a moderator's cookie too): 401."""
    return only(("agent_token",), yes, 401)


# --- requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A well-formed request for a route: values may be functions of the `Context`."""

    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    form: Any = None
    path: Mapping[str, Any] = field(default_factory=dict)
    ends_sessions: bool = False  # signs the caller out: fresh sign-ins for the rows after it


@dataclass
class Context:
    """What well-formed requests need to know."""

    case_number: str
    pin: str
    statement_version: str
    moderator_csrf: str

    def resolve(self, value: Any) -> Any:
        """`value`, with the functions in it (at its top or in a dict) called on this context."""
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        return value(self) if callable(value) else value


def payload(_: Context) -> str:
    return json.dumps({"items": [{"signals": [{"type": "pdq", "value": PDQ_B}]}]})


def portal_form(**extra: Any) -> Callable[[Context], dict[str, Any]]:
    return lambda c: {"csrf": CSRF, **{k: c.resolve(v) for k, v in extra.items()}}


GET = Call()
CASE = {"case_number": lambda c: c.case_number}
PIN = {"pin": lambda c: c.pin}
NO_ROW = 999_999  # an id no table holds: authorised callers get 404, the others 401/403
ITEMS = [{"signals": [{"type": "pdq", "value": PDQ_B, "quality": 90}]}]
FEEDBACK = {"feedback": [{"type": "pdq", "value": PDQ_A, "feedback": "PendingReview"}]}
HASH_RECORDS = {"hashRecords": [{"signalType": "VideoMD5", "hashValue": MD5_A}]}
STOPNCII_FEEDBACK = {"hashFeedbacks": [{"hashValue": PDQ_A, "feedbackValue": "Blocked"}]}
SIGNALS = {"signals": [{"type": "pdq", "value": PDQ_B}]}
OVERMATCHING = {
    "reports": [{"type": "pdq", "value": PDQ_A, "distinct_uploads": 500, "window_seconds": 3600}]
}

#: (method, path) -> (request, expected status per caller). One row per route.
HUB: dict[tuple[str, str], tuple[Call, dict[str, Expected]]] = {
    ("GET", "/openapi.json"): (GET, everyone(200)),
    ("GET", "/docs"): (GET, everyone(200)),
    ("GET", "/docs-assets"): (Call(path={"file": "swagger-ui.css"}), everyone(200)),
    ("GET", "/static"): (Call(path={"file": "css/portal.css"}), everyone(200)),
    ("GET", "/healthz"): (GET, everyone(200)),
    ("GET", "/readyz"): (GET, everyone(200)),
    ("GET", "/metrics"): (GET, only(("metrics_token",), 200, 401)),
    ("GET", "/v1/statement"): (GET, everyone(200)),
    ("POST", "/v1/cases"): (
        Call(json=lambda c: {"statement_version": c.statement_version, "items": ITEMS}),
        everyone(201),
    ),
    ("POST", "/v1/cases/{case_number}/status"): (Call(json=PIN, path=CASE), everyone(200)),
    ("POST", "/v1/cases/{case_number}/items"): (
        Call(json=lambda c: {"pin": c.pin, "items": ITEMS}, path=CASE),
        everyone(200),
    ),
    ("POST", "/v1/cases/{case_number}/withdraw"): (
        Call(json=lambda c: {"pin": c.pin, "item": "i_not_in_this_case"}, path=CASE),
        everyone(409),
    ),
    ("POST", "/v1/cases/{case_number}/contact"): (
        Call(json=lambda c: {"pin": c.pin, "email": "someone@example.org"}, path=CASE),
        everyone(200),
    ),
    ("GET", "/v1/feed"): (GET, scoped(Scope.FEED_READ)),
    ("GET", "/v1/feed.bin"): (GET, scoped(Scope.FEED_READ)),
    ("POST", "/v1/feedback"): (Call(json=FEEDBACK), scoped(Scope.FEEDBACK_WRITE)),
    ("POST", "/v1/overmatching"): (Call(json=OVERMATCHING), scoped(Scope.FEEDBACK_WRITE)),
    ("GET", "/stopncii/v1/FetchHashes"): (GET, scoped(Scope.FEED_READ)),
    ("POST", "/stopncii/v1/SubmitFeedback"): (
        Call(json=STOPNCII_FEEDBACK),
        scoped(Scope.FEEDBACK_WRITE),
    ),
    ("POST", "/stopncii/v1/SubmitHashes"): (Call(json=HASH_RECORDS), scoped(Scope.HASHES_SUBMIT)),
    # The portal: pages for everyone; a case's pages only for its signed-in survivor.
    ("GET", "/"): (GET, everyone(200)),
    ("GET", "/submit"): (GET, everyone(200)),
    ("POST", "/submit"): (
        Call(
            form=portal_form(
                payload=payload,
                statement_version=lambda c: c.statement_version,
                idempotency_key=lambda _: uuid.uuid4().hex,
                agree="yes",
            )
        ),
        everyone(200),
    ),
    ("GET", "/status"): (GET, only(("survivor",), 303, 200)),
    ("POST", "/status"): (
        # A new sign-in replaces the one this browser had.
        Call(
            form=portal_form(case_number=lambda c: c.case_number, pin=lambda c: c.pin),
            ends_sessions=True,
        ),
        everyone(303),
    ),
    ("GET", "/status/case"): (GET, survivor(200)),
    ("GET", "/status/withdraw"): (GET, survivor(200)),
    ("POST", "/status/withdraw"): (
        Call(form=portal_form(item="i_not_in_this_case")),
        survivor(303),
    ),
    ("POST", "/status/contact"): (Call(form=portal_form(email="a@example.org")), survivor(303)),
    ("GET", "/status/add"): (GET, survivor(200)),
    ("POST", "/status/add"): (Call(form=portal_form(payload=payload)), survivor(303)),
    # Sign-out and the quick exit end the survivor's session: leaving always works.
    ("POST", "/status/signout"): (Call(form=portal_form(), ends_sessions=True), everyone(303)),
    ("GET", "/exit"): (Call(params={"csrf": CSRF}, ends_sessions=True), everyone(303)),
    ("POST", "/exit"): (Call(form=portal_form(), ends_sessions=True), everyone(204)),
    ("GET", "/support"): (GET, everyone(200)),
    ("GET", "/lang/{code}"): (Call(path={"code": "es"}), everyone(303)),
}

AGENT: dict[tuple[str, str], tuple[Call, dict[str, Expected]]] = {
    ("GET", "/openapi.json"): (GET, everyone(200)),
    ("GET", "/healthz"): (GET, everyone(200)),
    ("GET", "/readyz"): (GET, everyone(frozenset({200, 503}))),  # 503 until the first sync
    ("GET", "/metrics"): (GET, agent_token()),
    ("GET", "/v1/hubs"): (GET, agent_token()),
    ("POST", "/v1/check"): (Call(json=SIGNALS), agent_token()),
    ("POST", "/v1/check/batch"): (Call(json={"requests": [SIGNALS]}), agent_token()),
    ("GET", "/v1/reviews"): (GET, agent_token()),
    ("POST", "/v1/reviews/{review_id}"): (
        Call(json={"decision": "Blocked"}, path={"review_id": NO_ROW}),
        agent_token(404),
    ),
    ("GET", "/v1/reviews/{review_id}/media"): (
        Call(path={"review_id": NO_ROW}),
        agent_token(404),
    ),
    ("POST", "/v1/negative"): (Call(json=SIGNALS), agent_token()),
    ("GET", "/v1/negative"): (GET, agent_token()),
    ("DELETE", "/v1/negative/{entry_id}"): (Call(path={"entry_id": NO_ROW}), agent_token(404)),
    # The moderator page: its sign-in for everyone, decisions only with a moderator's cookie.
    ("GET", "/review"): (GET, everyone(200)),
    ("POST", "/review/signin"): (  # a new sign-in replaces the one this browser had
        Call(form={"token": TOKEN, "name": MODERATOR}, ends_sessions=True),
        everyone(303),
    ),
    ("POST", "/review/{review_id}"): (
        Call(
            form=lambda c: {"decision": "Blocked", "csrf": c.moderator_csrf},
            path={"review_id": NO_ROW},
        ),
        only(("moderator",), 404, 403),
    ),
    ("POST", "/review/signout"): (
        Call(form=lambda c: {"csrf": c.moderator_csrf}, ends_sessions=True),
        everyone(200),
    ),
    ("GET", "/v1/quarantine"): (GET, agent_token()),
    ("POST", "/v1/quarantine/{entry_id}/release"): (
        Call(path={"entry_id": NO_ROW}),
        agent_token(404),
    ),
}


# --- callers ------------------------------------------------------------------------------


class _Yesterday(TimestampSigner):
    """Signs as if a day ago: a session cookie past its lifetime."""

    def get_timestamp(self) -> int:
        return int(time.time()) - 24 * 3600


def _cookies(**values: str) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in values.items())}


def _survivor_cookie(apis: Apis, *, sign_out: bool = False) -> str:
    """A survivor's session cookie from a real sign-in (ended on the server if `sign_out`)."""
    with client(apis.hub.url) as hub:
        hub.cookies.set("redress_csrf", CSRF)
        signed_in = hub.post(
            "/status",
            data={"csrf": CSRF, "case_number": apis.case["case_number"], "pin": apis.case["pin"]},
        )
        assert signed_in.status_code == 303, signed_in.text
        cookie = signed_in.cookies["redress_case"]
        if sign_out:
            assert hub.post("/status/signout", data={"csrf": CSRF}).status_code == 303
    return cookie


def _moderator_cookie(apis: Apis, *, sign_out: bool = False) -> tuple[str, str]:
    """A moderator's session cookie and its CSRF token from a real sign-in (ended on the
    agent if `sign_out`). The sign-in limit's clock moves on a minute first."""
    apis.agent_clock.advance(61)
    with client(apis.agent_url) as agent:
        moderated = agent.post("/review/signin", data={"token": TOKEN, "name": MODERATOR})
        assert moderated.status_code == 303, moderated.text
        cookie = moderated.cookies["redress_moderator"]
        page = agent.get("/review").text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        if sign_out:
            assert agent.post("/review/signout", data={"csrf": csrf}).status_code == 200
    return cookie, csrf


def callers(apis: Apis) -> tuple[dict[str, dict[str, str]], str]:
    """The headers each kind of caller sends, and the moderator's CSRF token."""
    survivor_cookie = _survivor_cookie(apis)
    moderator_cookie, moderator_csrf = _moderator_cookie(apis)
    ended_survivor = _survivor_cookie(apis, sign_out=True)
    ended_moderator, _ = _moderator_cookie(apis, sign_out=True)
    box = apis.hub_app.state.hub.box
    expired_case = URLSafeTimedSerializer(
        box.derive("portal-session"), salt="case", signer=_Yesterday
    ).dumps({"c": 1})
    expired_moderator = _Yesterday(TOKEN, salt="redress-agent-moderator").sign(MODERATOR).decode()
    headers = {
        "anonymous": {},
        "survivor": _cookies(redress_case=survivor_cookie),
        "revoked_key": _key_headers(apis.keys["revoked"]),
        "agent_token": {"Authorization": f"Bearer {TOKEN}"},
        "wrong_agent_token": {"Authorization": "Bearer not-the-agent-token"},
        "moderator": _cookies(redress_moderator=moderator_cookie),
        "expired_session": _cookies(redress_case=expired_case, redress_moderator=expired_moderator),
        "ended_session": _cookies(redress_case=ended_survivor, redress_moderator=ended_moderator),
        "metrics_token": {"Authorization": f"Bearer {METRICS_TOKEN}"},
    }
    for scope in Scope:
        headers[f"key:{scope.value}"] = _key_headers(apis.keys[scope.value])
    return headers, moderator_csrf


def _key_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Ocp-Apim-Subscription-Key": key}


# --- the test -----------------------------------------------------------------------------


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app serves; a static mount counts as ("GET", its path)."""
    found = []
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                found.append((method, path))
    return found


def _missing_rows(app: FastAPI, table: Mapping[tuple[str, str], Any]) -> list[str]:
    served = routes(app)
    problems = [
        f"new route without an authorisation row: {method} {path}"
        for method, path in served
        if (method, path) not in table
    ]
    problems += [
        f"authorisation row for a route that does not exist: {method} {path}"
        for method, path in table
        if (method, path) not in served
    ]
    return problems


def _send(
    http: httpx.Client, method: str, path: str, call: Call, context: Context, headers: Any
) -> httpx.Response:
    url = path.format(**{k: context.resolve(v) for k, v in call.path.items()})
    if path in ("/static", "/docs-assets"):
        url = f"{path}/{call.path['file']}"
    cookie = headers.get("Cookie")
    if call.form is not None:  # portal forms: the CSRF cookie is part of a well-formed request
        cookie = f"redress_csrf={CSRF}" + (f"; {cookie}" if cookie else "")
    sent = {**headers, **({"Cookie": cookie} if cookie else {})}
    http.cookies.clear()  # only the caller's own credentials, never what an earlier answer set
    return http.request(
        method,
        url,
        params={k: context.resolve(v) for k, v in call.params.items()},
        json=context.resolve(call.json) if call.json is not None else None,
        data=context.resolve(call.form) if call.form is not None else None,
        headers=sent,
    )


def test_every_route_has_a_row_and_every_caller_gets_the_expected_status(
    apis: Apis, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = _missing_rows(apis.hub_app, HUB) + _missing_rows(apis.agent_app, AGENT)
    assert not missing, "\n".join(missing)
    who, moderator_csrf = callers(apis)
    context = Context(
        case_number=apis.case["case_number"],
        pin=apis.case["pin"],
        statement_version=apis.hub.statement_version(),
        moderator_csrf=moderator_csrf,
    )
    wrong = []
    for base, table in ((apis.hub.url, HUB), (apis.agent_url, AGENT)):
        with client(base) as http:
            for (method, path), (call, expected) in table.items():
                for caller in CALLERS:
                    if path == "/review/signin":
                        apis.agent_clock.advance(61)  # the sign-in limit: 10 a minute
                    got = _send(http, method, path, call, context, who[caller]).status_code
                    want = expected[caller]
                    if got not in (want if isinstance(want, frozenset) else {want}):
                        wrong.append(f"{method} {path} as {caller}: {got}, expected {want}")
                    if call.ends_sessions and caller in ("survivor", "moderator"):
                        who, context.moderator_csrf = callers(apis)  # signed in again
    size = (len(HUB) + len(AGENT), len(CALLERS))
    with capsys.disabled():
        print(
            f"\nauthorisation matrix: {size[0]} routes x {size[1]} callers = "
            f"{size[0] * size[1]} requests, {len(wrong)} unexpected"
        )
    assert not wrong, "\n".join(wrong)


def test_a_route_without_a_row_is_named_and_so_is_a_stale_row() -> None:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/new")
    def new() -> None:
        """A route nobody has thought about yet."""

    assert _missing_rows(app, {("GET", "/old"): (GET, everyone(200))}) == [
        "new route without an authorisation row: GET /new",
        "authorisation row for a route that does not exist: GET /old",
    ]

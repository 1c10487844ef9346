"""Every platform route refuses a missing, wrong, revoked or under-scoped key; survivors' routes
need no key but the PIN; the route table has nothing unaccounted for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from redress.hub.app import create_app
from redress.hub.participants.schemas import Scope
from tests.hub.conftest import PDQ_A, RunningHub, hub_settings, pdq

#: The code under test, for the `redress` subprocesses (not whatever is installed).
SRC = str(Path(__file__).resolve().parents[2] / "src")

# (method, path, scope, json body) for every route that needs an API key.
KEYED_ROUTES = [
    ("GET", "/v1/feed", Scope.FEED_READ, None),
    ("GET", "/v1/feed.bin", Scope.FEED_READ, None),
    (
        "POST",
        "/v1/feedback",
        Scope.FEEDBACK_WRITE,
        {"feedback": [{"type": "pdq", "value": PDQ_A, "feedback": "Blocked"}]},
    ),
    (
        "POST",
        "/v1/overmatching",
        Scope.FEEDBACK_WRITE,
        {"reports": [{"type": "pdq", "value": PDQ_A, "distinct_uploads": 9, "window_seconds": 60}]},
    ),
    ("GET", "/stopncii/v1/FetchHashes", Scope.FEED_READ, None),
    (
        "POST",
        "/stopncii/v1/SubmitFeedback",
        Scope.FEEDBACK_WRITE,
        {"count": 1, "hashFeedbacks": [{"hashValue": PDQ_A, "feedbackValue": "Blocked"}]},
    ),
    (
        "POST",
        "/stopncii/v1/SubmitHashes",
        Scope.HASHES_SUBMIT,
        {"count": 1, "hashRecords": [{"signalType": "ImagePDQ", "hashValue": PDQ_A}]},
    ),
]
OPEN_ROUTES = {
    "/v1/statement",
    "/v1/cases",
    "/v1/cases/{case_number}/status",
    "/v1/cases/{case_number}/items",
    "/v1/cases/{case_number}/withdraw",
    "/v1/cases/{case_number}/contact",
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
}


def _headers(path: str, key: str | None) -> dict[str, str]:
    if key is None:
        return {}
    if path.startswith("/stopncii"):
        return {"Ocp-Apim-Subscription-Key": key, "x-functions-key": key}
    return {"Authorization": f"Bearer {key}"}


def test_every_route_is_either_keyed_or_deliberately_open(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(hub_settings(f"sqlite:///{tmp_path / 'x.db'}"))
    paths = set(app.openapi()["paths"])  # every route the API publishes
    keyed = {path for _m, path, _s, _b in KEYED_ROUTES}
    assert paths - keyed - OPEN_ROUTES == set()
    assert keyed <= paths


@pytest.mark.parametrize(("method", "path", "scope", "body"), KEYED_ROUTES)
def test_keyed_routes_refuse_bad_keys(
    hub: RunningHub, method: str, path: str, scope: Scope, body: object
) -> None:
    hub.create_case([pdq(PDQ_A)])
    good = hub.participant("Good", tuple(Scope))
    other_scopes = tuple(s for s in Scope if s is not scope)
    under = hub.participant("Under", other_scopes)
    doomed = hub.participant("Doomed", tuple(Scope))
    env = {
        "REDRESS_DATABASE_URL": hub.settings.database_url,
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": SRC,
    }
    subprocess.run(
        [sys.executable, "-m", "redress", "participant", "revoke", "Doomed"],
        env=env,
        check=True,
        capture_output=True,
    )
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    cases = [
        (None, 401, "missing_key"),
        ("rk_nothing_here", 401, "invalid_key"),
        (tampered, 401, "invalid_key"),
        (doomed, 401, "revoked_key"),
        (under, 403, "missing_scope"),
    ]
    for key, status, code in cases:
        response = hub.client.request(method, path, json=body, headers=_headers(path, key))
        assert (response.status_code, response.json()["code"]) == (status, code), (key, path)
    allowed = hub.client.request(method, path, json=body, headers=_headers(path, good))
    assert allowed.status_code == 200, allowed.text


def test_rotated_key_replaces_the_old_one(hub: RunningHub) -> None:
    old = hub.participant("Rotating")
    env = {
        "REDRESS_DATABASE_URL": hub.settings.database_url,
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": SRC,
    }
    run = subprocess.run(
        [sys.executable, "-m", "redress", "participant", "rotate", "Rotating"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    new = run.stdout.strip().splitlines()[-1]
    assert new.startswith("rk_") and new != old
    assert hub.client.get("/v1/feed", headers=_headers("/v1/feed", old)).status_code == 401
    assert hub.client.get("/v1/feed", headers=_headers("/v1/feed", new)).status_code == 200

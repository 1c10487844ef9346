"""Operating the hub: health, readiness, metrics, size limits, error shapes, logs without
secrets, the admin commands, and `redress serve` as a real process."""

from __future__ import annotations

import io
import logging
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from pythonjsonlogger.json import JsonFormatter

from redress.db import make_engine
from redress.db.migrate import current_and_head
from redress.hub.migrations import HUB
from redress.hub.participants.schemas import Scope
from tests.hub.conftest import PDQ_A, RunningHub, hub_settings, pdq, serve

#: The code under test, for the `redress` subprocesses (not whatever is installed).
SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_health_readiness_and_metrics(database_url: str) -> None:
    for hub in serve(hub_settings(database_url, metrics_token="metrics-secret-1")):
        assert hub.client.get("/healthz").json() == {"status": "ok"}
        ready = hub.client.get("/readyz")
        engine = make_engine(database_url)
        _, head = current_and_head(engine, HUB)
        engine.dispose()
        assert ready.status_code == 200 and ready.json()["schema"] == head
        hub.client.get("/v1/statement")
        metrics = hub.client.get("/metrics", headers={"Authorization": "Bearer metrics-secret-1"})
        assert metrics.status_code == 200
        assert (
            'redress_http_requests_total{method="GET",route="/v1/statement",status="200"}'
            in metrics.text
        )


def test_readiness_fails_before_migration(tmp_path: Path) -> None:
    for running in serve(hub_settings(f"sqlite:///{tmp_path / 'empty.db'}")):
        response = running.client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["code"] == "migration_pending"


def test_oversized_request_is_refused_with_413(database_url: str) -> None:
    for running in serve(hub_settings(database_url, max_request_bytes=4096)):
        items = [{"signals": [pdq(f"{n:064x}")]} for n in range(200)]
        response = running.client.post("/v1/cases", json={"statement_version": "x", "items": items})
        assert response.status_code == 413
        assert response.json()["code"] == "request_too_large"


def test_unknown_route_gets_json_error(hub: RunningHub) -> None:
    response = hub.client.get("/v1/nothing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_logs_hold_no_case_numbers_pins_keys_or_hashes(hub: RunningHub) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(message)s"))
    logger = logging.getLogger("redress")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        key = hub.participant("Logged", tuple(Scope))
        case = hub.create_case([pdq(PDQ_A)])
        number, pin = case["case_number"], case["pin"]
        hub.client.post(f"/v1/cases/{number}/status", json={"pin": pin})
        hub.client.post(f"/v1/cases/{number}/status", json={"pin": "11111111"})
        hub.client.post(f"/v1/cases/{number}/contact", json={"pin": pin, "email": "me@x.org"})
        hub.client.get("/v1/feed", headers={"Authorization": f"Bearer {key}"})
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "/v1/cases/{case_number}/status" in logged  # requests are logged, by template
    for secret in (number, number.replace("-", ""), pin, key, PDQ_A, "me@x.org", "11111111"):
        assert secret not in logged


def test_participant_commands(database_url: str) -> None:
    env = {"REDRESS_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "PYTHONPATH": SRC}

    def redress(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "redress", *args], env=env, capture_output=True, text=True
        )

    assert redress("db", "upgrade").returncode == 0  # idempotent on a migrated database
    added = redress("participant", "add", "ExamplePlatform", "--scopes", "feed:read")
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip().splitlines()[-1]
    assert key.startswith("rk_")
    listing = redress("participant", "list")
    assert "ExamplePlatform" in listing.stdout and key.split("_")[1] in listing.stdout
    assert key not in listing.stdout
    assert redress("participant", "add", "ExamplePlatform").returncode == 1
    bad = redress("participant", "add", "Other", "--scopes", "feed:write")
    assert bad.returncode == 2 and "unknown scope" in bad.stderr
    assert redress("participant", "revoke", "Nobody").returncode == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_refused(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`redress serve` expected to refuse to start: its exit and messages."""
    return subprocess.run(
        [sys.executable, "-m", "redress", "serve", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_redress_serve_runs_the_hub(tmp_path: Path) -> None:
    env = {
        "REDRESS_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": SRC,
    }
    refused = _serve_refused(env)
    assert refused.returncode == 1
    assert "run 'redress db upgrade' first" in refused.stderr
    subprocess.run([sys.executable, "-m", "redress", "db", "upgrade"], env=env, check=True)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "redress", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # wait until uvicorn says it listens
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert response.json()["status"] == "ready"
        docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=10)
        assert docs.status_code == 200
        assert "/docs-assets/swagger-ui-bundle.js" in docs.text
        assert "cdn" not in docs.text.lower() and "https://" not in docs.text
        asset = httpx.get(f"http://127.0.0.1:{port}/docs-assets/swagger-ui.css", timeout=10)
        assert asset.status_code == 200
    finally:
        process.terminate()
        process.wait(10)


def test_redress_serve_names_a_broken_helplines_file(tmp_path: Path) -> None:
    broken = tmp_path / "helplines.toml"
    broken.write_text('[[helpline]]\nname = "No website"\ncountry = "GB"\ndescription = "x"\n')
    env = {
        "REDRESS_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "REDRESS_HELPLINES_FILE": str(broken),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": SRC,
    }
    subprocess.run([sys.executable, "-m", "redress", "db", "upgrade"], env=env, check=True)
    refused = _serve_refused(env)
    assert refused.returncode == 1
    assert "helpline 1: missing url" in refused.stderr
    assert "Traceback" not in refused.stderr

"""Schemathesis against the hub and the agent over real HTTP: every check, every phase
(examples, coverage, fuzzing, stateful through the documents' links), authenticated with a
platform key and the agent token. Zero failures is the bar.

`make test` runs a bounded number of examples per operation (REDRESS_FUZZ_EXAMPLES, default 5,
fixed seed); `make fuzz-api` runs many more with a fresh seed. Each run prints one line per app
(operations, test cases, failures) to the test log, even under output capture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.agent.conftest import TOKEN
from tests.api.conftest import Apis

EXAMPLES = int(os.environ.get("REDRESS_FUZZ_EXAMPLES", "5"))
#: A fixed seed keeps `make test` reproducible; `make fuzz-api` sets "random".
SEED = os.environ.get("REDRESS_FUZZ_SEED", "20261125")
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"

#: What the JSON Schema of an operation cannot say, per operation, with the reason.
HUB_OPERATIONS = """
# The long-poll parameter would make every caught-up request wait up to 30 s.
[[operations]]
include-name = "GET /v1/feed.bin"
parameters = { wait = 0 }
"""
AGENT_OPERATIONS = """
# A multipart upload is valid by the schema whatever its bytes are; whether they decode as a
# picture or video of a usable size is only known by trying (422 `unhashable_*`, documented).
[[operations]]
include-name = "POST /v1/check"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "409", "422", "429"]
"""


def _config(auth: dict[str, dict[str, str]], operations: str) -> str:
    # Negative strings over a 200,000-character limit are more than Hypothesis can generate;
    # that health check is about the generator, not the API.
    lines = ['suppress-health-check = ["large_base_example"]', "", "[generation]"]
    lines += ['database = "none"', ""]
    for scheme, values in auth.items():
        lines.append(f"[auth.openapi.{scheme}]")
        lines.extend(f"{name} = {json.dumps(value)}" for name, value in values.items())
        lines.append("")
    return "\n".join(lines) + operations


def run_schemathesis(
    name: str, url: str, auth: dict[str, dict[str, str]], operations: str, workdir: Path
) -> dict[str, Any]:
    """One schemathesis run (all checks, all phases); its JSON report, after printing a summary."""
    workdir.mkdir()
    (workdir / "schemathesis.toml").write_text(_config(auth, operations))
    report = workdir / "report.json"
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(workdir / "schemathesis.toml"),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
    ]
    if SEED != "random":
        command += ["--seed", SEED]
    run = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=3600, check=False
    )
    assert report.is_file(), run.stdout[-5000:] + run.stderr[-5000:]
    result: dict[str, Any] = json.loads(report.read_text())
    failures = sum(failure["count"] for failure in result["failures"])
    summary = (
        f"schemathesis {name}: {result['operations']['tested']} operations, "
        f"{result['test_cases']['generated']} test cases, {failures} failures, "
        f"{len(result['errors'])} errors (max {EXAMPLES} examples per operation, seed "
        f"{result['seed']}, {result['running_time']:.0f} s)"
    )
    result["summary"] = summary
    result["output"] = run.stdout[-30000:] + run.stderr[-5000:]
    (workdir / "output.txt").write_text(run.stdout + run.stderr)
    return result


def _report(result: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\n{result['summary']}")
    assert result["operations"]["tested"] == result["operations"]["selected"] > 0
    assert result["phases"]["stateful"]["status"] != "skip", "no stateful phase: links lost?"
    assert not result["failures"] and not result["errors"], result["output"]
    assert result["exit_code"] == 0, result["output"]


def test_hub_api_conforms_to_its_openapi_document(
    apis: Apis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = apis.keys["all"]
    auth = {
        "platformKey": {"bearer": key},
        "stopnciiSubscriptionKey": {"api_key": key},
        "stopnciiFunctionsKey": {"api_key": key},
    }
    _report(run_schemathesis("hub", apis.hub.url, auth, HUB_OPERATIONS, tmp_path / "hub"), capsys)


def test_agent_api_conforms_to_its_openapi_document(
    apis: Apis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    auth = {"agentToken": {"bearer": TOKEN}}
    result = run_schemathesis("agent", apis.agent_url, auth, AGENT_OPERATIONS, tmp_path / "agent")
    _report(result, capsys)

"""`POST /v1/check` (a file or hashes) and `POST /v1/check/batch` (hashes of many pieces)."""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from redress.agent.auth import AUTHORISED
from redress.agent.check.bounds import run_bounded, run_json
from redress.agent.check.deps import Checker, CheckerDep
from redress.agent.check.schemas import CHECK_BODY, BatchCheckIn, BatchIn, CheckIn
from redress.agent.check.service import (
    CheckCode,
    CheckResult,
    check_vpdq_bounds,
    validate_signals,
)
from redress.agent.errors import AgentError
from redress.web.errors import error_body, error_responses
from redress.web.openapi import schema_ref

router = APIRouter()


def result_body(result: CheckResult) -> dict[str, Any]:
    """The JSON of a check result."""
    return {
        "decision": result.decision,
        "matches": [
            {
                "hub": m.hub,
                "signal": {"type": m.type, "value": m.value},
                "distance": m.distance,
                "items": list(m.items),
                "action": m.action,
                **({"segments": [list(s) for s in m.segments]} if m.segments else {}),
                "quarantined": m.quarantined,
            }
            for m in result.matches
        ],
        "reviews": result.reviews,
        "suppressed_by_negative_bank": result.suppressed,
    }


@router.post(
    "/v1/check",
    tags=["check"],
    dependencies=[AUTHORISED],
    responses=error_responses(401, 413, 422),
    openapi_extra={"requestBody": CHECK_BODY},
)
async def check(request: Request, agent: CheckerDep) -> JSONResponse:
    """Check one piece of content: multipart with a `file` field, or JSON hashes.

    Answers `{"decision": "allow"|"review"|"block", "matches": [...]}`.
    """
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        content_id = form.get("content_id")
        if upload is None or isinstance(upload, str):
            raise AgentError(
                422, CheckCode.NO_FILE, "Send the media as a multipart field named 'file'."
            )
        suffix = Path(upload.filename or "upload").suffix[:10]
        scratch = agent.state_dir / "scratch"
        scratch.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=scratch, suffix=suffix) as temporary:
            while chunk := await upload.read(1 << 20):
                temporary.write(chunk)
            temporary.flush()
            path = Path(temporary.name)
            # Hashing and the database are blocking work: off the event loop, and hashing
            # only once the memory its decoding needs is reserved.
            cost = await run_in_threadpool(agent.upload_cost, path)
            result = await run_bounded(agent, cost, _hash_and_check, agent, path)
            if result.matches:
                held = content_id if isinstance(content_id, str) else None
                await run_in_threadpool(agent.record, result, held, path)
        return JSONResponse(result_body(result))
    result, json_id = await run_json(agent, request, partial(_check_json, agent), inline=True)
    if result.matches:  # the database only when something is held or blocked
        await run_in_threadpool(agent.record, result, json_id, None)
    return JSONResponse(result_body(result))


def _hash_and_check(agent: Checker, path: Path) -> CheckResult:
    return agent.check(agent.hash_upload(path))  # a long video's vPDQ search is work too


def _check_json(agent: Checker, raw: bytes) -> tuple[CheckResult, str | None]:
    try:
        body = CheckIn.model_validate_json(raw)
    except ValueError as exc:
        raise AgentError(
            422,
            CheckCode.INVALID_REQUEST,
            'Send JSON {"signals": [{"type", "value"}]} or a multipart \'file\' '
            f"({str(exc).splitlines()[0]})",
        ) from None
    return _check_hashes(agent, body), body.content_id


def _check_hashes(agent: Checker, body: CheckIn | BatchCheckIn) -> CheckResult:
    raw = [s.model_dump() for s in body.signals]
    settings = agent.settings
    check_vpdq_bounds(raw, settings.max_vpdq_signals, settings.max_vpdq_frames)
    return agent.check(validate_signals(raw))


@router.post(
    "/v1/check/batch",
    tags=["check"],
    dependencies=[AUTHORISED],
    responses=error_responses(401, 413, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_ref(BatchIn)}},
        }
    },
)
async def check_batch(request: Request, agent: CheckerDep) -> dict[str, Any]:
    """Check many pieces of content by hashes; results in request order. A bad request is
    answered with its error in place; the rest are still checked."""
    return await run_json(agent, request, partial(_check_batch, agent))


def _check_batch(agent: Checker, raw: bytes) -> dict[str, Any]:
    try:
        body = BatchIn.model_validate_json(raw)
    except ValueError as exc:
        raise AgentError(
            422,
            CheckCode.INVALID_REQUEST,
            f'Send JSON {{"requests": [{{"signals": [...]}}]}} ({str(exc).splitlines()[0]})',
        ) from None
    if len(body.requests) > agent.settings.max_batch:
        raise AgentError(
            413,
            CheckCode.BATCH_TOO_LARGE,
            f"At most {agent.settings.max_batch} requests per batch.",
        )
    results: list[dict[str, Any]] = []
    for one in body.requests:
        try:
            result = _check_hashes(agent, one)
            agent.record(result, one.content_id, None)
            results.append(result_body(result))
        except AgentError as exc:
            results.append({"error": error_body(exc.code, exc.detail)})
    return {"results": results}

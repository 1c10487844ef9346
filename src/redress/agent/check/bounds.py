"""The agent's check path kept within bounds: work runs in a worker thread only once the memory
it needs is reserved from the agent's budget (503 with Retry-After when the budget stays full),
and JSON bodies are capped and counted before they are read."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from redress.agent.check.deps import Checker
from redress.agent.check.service import CheckCode
from redress.agent.errors import AgentBusyError, AgentError
from redress.hashing.budget import BudgetBusyError

#: JSON checks up to this size (a handful of hashes: microseconds of work, cheaper than a hop to
#: a worker thread) are answered on the event loop without a reservation.
INLINE_JSON_BYTES = 1024
_T = TypeVar("_T")


@asynccontextmanager
async def reserved(agent: Checker, cost: int) -> AsyncIterator[None]:
    """Hold `cost` bytes of the agent's memory budget; `AgentBusyError` (503) if it stays full
    for REDRESS_AGENT_BUDGET_WAIT_SECONDS. The wait is on the event loop: it parks no thread."""
    wait = agent.settings.budget_wait_seconds
    try:
        taken = await agent.budget.acquire_async(cost, wait)
    except BudgetBusyError:
        raise AgentBusyError(max(1, math.ceil(wait)), agent.settings.memory_budget_mb) from None
    try:
        yield
    finally:
        agent.budget.release(taken)


async def run_bounded(agent: Checker, cost: int, work: Callable[..., _T], *args: Any) -> _T:
    """`work(*args)` in a worker thread while `cost` bytes of the budget are held."""
    async with reserved(agent, cost):
        return await run_in_threadpool(work, *args)


async def run_json(
    agent: Checker, request: Request, work: Callable[[bytes], _T], *, inline: bool = False
) -> _T:
    """`work(body)` for a JSON request: with `inline`, a body of at most `INLINE_JSON_BYTES` on
    the loop; otherwise the budget is reserved for the declared size (or the limit) before the
    body is read, and `work` runs in a worker thread."""
    declared = declared_length(request)
    if inline and declared is not None and declared <= INLINE_JSON_BYTES:
        return work(await _body(agent, request, INLINE_JSON_BYTES))
    most = agent.settings.max_json_bytes
    if declared is not None and declared > most:
        raise _too_large(agent)
    limit = most if declared is None else declared
    async with reserved(agent, agent.json_cost(limit)):
        raw = await _body(agent, request, limit)
        return await run_in_threadpool(work, raw)


def declared_length(request: Request) -> int | None:
    """The request's Content-Length, if it declares one."""
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


async def _body(agent: Checker, request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` bytes."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max(limit, INLINE_JSON_BYTES):
            raise _too_large(agent)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(agent: Checker) -> AgentError:
    return AgentError(
        413,
        CheckCode.JSON_TOO_LARGE,
        f"A JSON check may be at most {agent.settings.max_json_bytes:,} bytes "
        "(REDRESS_AGENT_MAX_JSON_BYTES); send fewer hashes at a time.",
    )

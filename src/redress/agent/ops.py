"""The agent's operations routes: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from redress.agent.auth import AUTHORISED, agent_token
from redress.agent.runtime import Agent
from redress.web.errors import error_responses

router = APIRouter(tags=["ops"])


async def get_agent(request: Request) -> Agent:
    """The running agent."""
    agent: Agent = request.app.state.agent
    return agent


AgentDep = Annotated[Agent, Depends(get_agent)]


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Still loading or catching up with a hub."}})
def readyz(
    request: Request, agent: AgentDep, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """200 once every enabled hub's bank is loaded and caught up once; 503 before.

    Each hub's progress (names, last error) only with the agent token."""
    ok, hubs = agent.ready()
    body: dict[str, Any] = {"status": "ready" if ok else "starting"}
    if agent_token(request).in_header(authorization):
        body["hubs"] = hubs
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    dependencies=[AUTHORISED],
    responses={
        200: {
            "description": "Prometheus text format.",
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
        },
        **error_responses(401),
    },
)
def metrics(agent: AgentDep) -> Response:
    """Prometheus metrics: index size, sync lag, check latency, decisions, outbox."""
    return Response(generate_latest(agent.metrics.registry), media_type=CONTENT_TYPE_LATEST)

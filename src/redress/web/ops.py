"""Operations endpoints: liveness, readiness (database reachable and migrated), metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from redress.db.migrate import current_and_head
from redress.hub.errors import HubError
from redress.web.context import HubContext, hub
from redress.web.errors import error_responses

router = APIRouter(tags=["operations"])
Hub = Annotated[HubContext, Depends(hub)]


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses=error_responses(503))
def readyz(context: Hub) -> dict[str, str]:
    """The database answers and its schema is at the latest migration."""
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = current_and_head(context.engine)
    except Exception:
        raise HubError(503, "database_unavailable", "The database does not answer.") from None
    if current != head:
        raise HubError(
            503, "migration_pending", "The database needs 'redress db upgrade' before serving."
        )
    return {"status": "ready", "schema": current or ""}


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

"""Operations endpoints: liveness, readiness (database reachable and migrated), metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import text

from redress.db.migrate import current_and_head
from redress.hub import flood
from redress.hub.errors import HubError
from redress.web.context import HubContext, hub

router = APIRouter(tags=["operations"])
Hub = Annotated[HubContext, Depends(hub)]


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
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


HELD_SIGNALS = Gauge(
    "redress_held_signals", "Signals held back from the feed for staff review (pending holds)"
)
PENDING_HOLDS = Gauge("redress_pending_holds", "Holds waiting for staff review", ["reason"])


@router.get("/metrics", include_in_schema=False)
def metrics(context: Hub) -> Response:
    """Prometheus metrics; the flood safeguards' holds are read from the database."""
    with context.transaction() as session:
        HELD_SIGNALS.set(flood.held_signals(session))
        for reason, count in flood.pending_by_reason(session).items():
            PENDING_HOLDS.labels(reason).set(count)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

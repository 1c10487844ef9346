"""Operations endpoints: liveness, readiness (database reachable and migrated), metrics.

`/metrics` counts case creations and PIN failures, so it is not public: it needs
`Authorization: Bearer <REDRESS_METRICS_TOKEN>`. Without a token configured it answers 404, as
if it did not exist, unless `REDRESS_METRICS_PUBLIC=true` opens it to anyone.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import text

from redress.db.migrate import current_and_head
from redress.hub import flood
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


HELD_SIGNALS = Gauge(
    "redress_held_signals", "Signals held back from the feed for staff review (pending holds)"
)
PENDING_HOLDS = Gauge("redress_pending_holds", "Holds waiting for staff review", ["reason"])


@router.get("/metrics", include_in_schema=False)
def metrics(
    context: Hub, authorization: Annotated[str | None, Header(max_length=500)] = None
) -> Response:
    """Prometheus metrics, for the bearer of the metrics token."""
    settings = context.settings
    if not settings.metrics_public:
        if settings.metrics_token is None:
            raise HubError(404, "not_found", "Not Found")
        if not _bearer_matches(authorization, settings.metrics_token.get_secret_value()):
            raise HubError(
                401,
                "unauthorised",
                "Send the metrics token as 'Authorization: Bearer <REDRESS_METRICS_TOKEN>'.",
            )
    with context.transaction() as session:  # the flood safeguards' holds, read from the database
        HELD_SIGNALS.set(flood.held_signals(session))
        for reason, count in flood.pending_by_reason(session).items():
            PENDING_HOLDS.labels(reason).set(count)
    return Response(
        generate_latest(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
    )


def _bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    # Compare digests so the comparison takes the same time whatever the lengths.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        hashlib.sha256(given.strip().encode()).digest(), hashlib.sha256(token.encode()).digest()
    )

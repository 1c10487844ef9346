"""Operations endpoints any Redress application can mount: liveness, readiness (database
reachable and migrated), metrics.

`/metrics` may count sensitive things (case creations, PIN failures), so it is not public: it
needs `Authorization: Bearer <token>`. Without a token configured it answers 404, as if it did
not exist, unless the application opens it to anyone.
"""

import hashlib
import hmac
from collections.abc import Callable
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, text

from redress.core.errors import RedressError
from redress.db.migrate import Chain, current_and_head
from redress.web.errors import error_responses


class Operated(Protocol):
    """What the operations routes need from an application."""

    @property
    def engine(self) -> Engine:
        """The application's database."""
        ...

    @property
    def metrics_public(self) -> bool:
        """Whether /metrics is open to anyone."""
        ...

    @property
    def metrics_token(self) -> str | None:
        """The bearer token /metrics needs (None: /metrics answers 404)."""
        ...

    def refresh_metrics(self) -> None:
        """Update gauges that are read from the database, before /metrics answers."""
        ...


def ops_router(operated: Callable[[Request], Operated], chain: Chain) -> APIRouter:
    """`/healthz`, `/readyz` and `/metrics` for the application `operated` finds (a FastAPI
    dependency returning the application's context), whose schema is migrated by `chain`."""
    router = APIRouter(tags=["operations"])
    # Evaluated here (this module does not postpone annotations): FastAPI reads the routes'
    # annotations at definition, and `operated` exists only in this call.
    Subject = Annotated[Operated, Depends(operated)]  # noqa: N806 (a type alias)

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @router.get("/readyz", responses=error_responses(503))
    def readyz(subject: Subject) -> dict[str, str]:
        """The database answers and its schema is at the latest migration."""
        try:
            with subject.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            current, head = current_and_head(subject.engine, chain)
        except Exception:
            raise RedressError(
                503, "database_unavailable", "The database does not answer."
            ) from None
        if current != head:
            raise RedressError(
                503,
                "migration_pending",
                f"The database needs '{chain.upgrade_command}' before serving.",
            )
        return {"status": "ready", "schema": current or ""}

    @router.get("/metrics", include_in_schema=False)
    def metrics(
        subject: Subject, authorization: Annotated[str | None, Header(max_length=500)] = None
    ) -> Response:
        """Prometheus metrics, for the bearer of the metrics token."""
        if not subject.metrics_public:
            token = subject.metrics_token
            if token is None:
                raise RedressError(404, "not_found", "Not Found")
            if not _bearer_matches(authorization, token):
                raise RedressError(
                    401,
                    "unauthorised",
                    "Send the metrics token as 'Authorization: Bearer <REDRESS_METRICS_TOKEN>'.",
                )
        subject.refresh_metrics()
        return Response(
            generate_latest(),
            media_type=CONTENT_TYPE_LATEST,
            headers={"Cache-Control": "no-store"},
        )

    return router


def _bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    # Compare digests so the comparison takes the same time whatever the lengths.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        hashlib.sha256(given.strip().encode()).digest(), hashlib.sha256(token.encode()).digest()
    )

"""A busy database is answered 503 with `Retry-After`, never 500: SQLite's "database is locked"
(the busy timeout passed), PostgreSQL's lock timeouts, serialisation failures and deadlocks.
The API gets `{"code": "busy", "detail"}`; the portal's routes answer with their own translated
page (`redress.portal.pages.PortalRoute`) before this handler sees the error."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError

RETRY_AFTER_SECONDS = 5
#: PostgreSQL SQLSTATEs of "try again": serialisation failure, deadlock, lock not available,
#: statement/lock timeout (query cancelled).
_PG_BUSY = {"40001", "40P01", "55P03", "57014"}
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def is_busy(exc: OperationalError) -> bool:
    """Whether the database refused for contention (worth retrying), not for a fault."""
    original = exc.orig
    if getattr(original, "sqlstate", None) in _PG_BUSY:
        return True
    return any(text in str(original).lower() for text in _SQLITE_BUSY)


def busy_response(request: Request) -> Response:
    """503 busy for this request, as the API's JSON error."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    body = {
        "code": "busy",
        "detail": "The hub's database is busy; nothing was changed. Try again in "
        f"{RETRY_AFTER_SECONDS} seconds.",
    }
    return JSONResponse(body, 503, headers=headers)

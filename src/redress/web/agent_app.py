"""The agent's HTTP side: `check` for the platform's upload pipeline, the review queue (API and
a moderator page), the negative bank, health, readiness and metrics."""

from __future__ import annotations

import hashlib
import hmac
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Form, Header, Query, Request, Security
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.security import HTTPAuthorizationCredentials
from jinja2 import Environment, PackageLoader, select_autoescape
from limits import parse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import select

from redress.agent.models import RATE_LIMIT_COUNTERS, Review
from redress.agent.service import (
    Agent,
    AgentError,
    CheckResult,
    check_vpdq_bounds,
    validate_signals,
)
from redress.core.clock import Clock
from redress.web import i18n
from redress.web.agent_bounds import run_bounded, run_json
from redress.web.agent_quarantine import quarantine_router
from redress.web.agent_schemas import (
    CHECK_BODY,
    NEGATIVE_LINKS,
    BatchCheckIn,
    BatchIn,
    CheckIn,
    DecisionIn,
    NegativeIn,
    document_limits,
)
from redress.web.app import BodySizeLimit
from redress.web.errors import error_body, error_responses, install_error_handlers
from redress.web.moderator_sessions import ModeratorSessions
from redress.web.openapi import AGENT_TOKEN, extend_openapi, schema_ref
from redress.web.ratelimit import RateLimiter, make_storage
from redress.web.security_headers import SecurityHeaders, https_in_effect

_PAGES = Environment(
    loader=PackageLoader("redress.web", "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)
_PAGES.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)
_PAGES.policies["ext.i18n.trimmed"] = True
_SECURITY = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_COOKIE = "redress_moderator"


#: Row ids of the agent's tables (32-bit integers on PostgreSQL).
RowId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
_AUTHORISED = error_responses(401, 422)


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


def create_agent_app(agent: Agent, *, start: bool = True, clock: Clock | None = None) -> FastAPI:
    """The agent's application; `start` runs the feed followers and outbox with the app; `clock`
    times the moderator sign-in limit (the system's by default)."""
    token_hash = hashlib.sha256(agent.token.encode()).digest()
    moderators = ModeratorSessions()

    def authorised(token: str | None) -> bool:
        return token is not None and hmac.compare_digest(
            hashlib.sha256(token.encode()).digest(), token_hash
        )

    def bearer(authorization: str | None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and authorised(token.strip())

    def require_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(AGENT_TOKEN)],
    ) -> None:
        if credentials is None or not authorised(credentials.credentials.strip()):
            raise AgentError(
                401, "unauthorised", "Send the agent token as 'Authorization: Bearer <token>'."
            )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start:
            agent.start()
        yield
        if start:
            agent.stop()

    app = FastAPI(title="Redress agent", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.agent = agent
    app.state.moderators = moderators
    authorised_only = Security(require_token)
    install_error_handlers(app, service="agent")
    extend_openapi(
        app, models=(CheckIn, BatchIn), patch=lambda document: document_limits(document, agent)
    )

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["ops"],
        responses={503: {"description": "Still loading or catching up with a hub."}},
    )
    def readyz(authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        """200 once every enabled hub's bank is loaded and caught up once; 503 before.

        Each hub's progress (names, last error) only with the agent token."""
        ok, hubs = agent.ready()
        body: dict[str, Any] = {"status": "ready" if ok else "starting"}
        if bearer(authorization):
            body["hubs"] = hubs
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get(
        "/metrics",
        tags=["ops"],
        dependencies=[authorised_only],
        responses={
            200: {
                "description": "Prometheus text format.",
                "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            },
            **error_responses(401),
        },
    )
    def metrics() -> Response:
        """Prometheus metrics: index size, sync lag, check latency, decisions, outbox."""
        return Response(generate_latest(agent.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get(
        "/v1/hubs", tags=["ops"], dependencies=[authorised_only], responses=error_responses(401)
    )
    def hubs() -> dict[str, Any]:
        """Each hub: sync position, live signals per type, item references held, last error."""
        return {
            "hubs": [
                {
                    "name": name,
                    "url": f.hub.url,
                    "enabled": f.hub.enabled,
                    "action": f.hub.action,
                    "pdq_threshold": f.hub.pdq_threshold,
                    "cursor": f.cursor,
                    "head": f.head,
                    "signals": f.bank.counts(),
                    "items": f.bank.item_count(),
                    "last_error": f.last_error,
                }
                for name, f in agent.followers.items()
            ]
        }

    @app.post(
        "/v1/check",
        tags=["check"],
        dependencies=[authorised_only],
        responses=error_responses(401, 413, 422),
        openapi_extra={"requestBody": CHECK_BODY},
    )
    async def check(request: Request) -> JSONResponse:
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
                    422, "no_file", "Send the media as a multipart field named 'file'."
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
                result = await run_bounded(agent, cost, _hash_and_check, path)
                if result.matches:
                    held = content_id if isinstance(content_id, str) else None
                    await run_in_threadpool(agent.record, result, held, path)
            return JSONResponse(result_body(result))
        result, json_id = await run_json(agent, request, _check_json, inline=True)
        if result.matches:  # the database only when something is held or blocked
            await run_in_threadpool(agent.record, result, json_id, None)
        return JSONResponse(result_body(result))

    def _hash_and_check(path: Path) -> CheckResult:
        return agent.check(agent.hash_upload(path))  # a long video's vPDQ search is work too

    def _check_json(raw: bytes) -> tuple[CheckResult, str | None]:
        try:
            body = CheckIn.model_validate_json(raw)
        except ValueError as exc:
            raise AgentError(
                422,
                "invalid_request",
                'Send JSON {"signals": [{"type", "value"}]} or a multipart \'file\' '
                f"({str(exc).splitlines()[0]})",
            ) from None
        return _check_hashes(body), body.content_id

    def _check_hashes(body: CheckIn | BatchCheckIn) -> CheckResult:
        raw = [s.model_dump() for s in body.signals]
        settings = agent.settings
        check_vpdq_bounds(raw, settings.max_vpdq_signals, settings.max_vpdq_frames)
        return agent.check(validate_signals(raw))

    @app.post(
        "/v1/check/batch",
        tags=["check"],
        dependencies=[authorised_only],
        responses=error_responses(401, 413, 422, 503),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref(BatchIn)}},
            }
        },
    )
    async def check_batch(request: Request) -> dict[str, Any]:
        """Check many pieces of content by hashes; results in request order. A bad request is
        answered with its error in place; the rest are still checked."""
        return await run_json(agent, request, _check_batch)

    def _check_batch(raw: bytes) -> dict[str, Any]:
        try:
            body = BatchIn.model_validate_json(raw)
        except ValueError as exc:
            raise AgentError(
                422,
                "invalid_request",
                f'Send JSON {{"requests": [{{"signals": [...]}}]}} ({str(exc).splitlines()[0]})',
            ) from None
        if len(body.requests) > agent.settings.max_batch:
            raise AgentError(
                413, "batch_too_large", f"At most {agent.settings.max_batch} requests per batch."
            )
        results: list[dict[str, Any]] = []
        for one in body.requests:
            try:
                result = _check_hashes(one)
                agent.record(result, one.content_id, None)
                results.append(result_body(result))
            except AgentError as exc:
                results.append({"error": error_body(exc.code, exc.detail)})
        return {"results": results}

    @app.get("/v1/reviews", tags=["review"], dependencies=[authorised_only], responses=_AUTHORISED)
    def reviews(
        status: Literal["pending", "blocked", "not_blocked"] = "pending",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """Held matches, oldest first."""
        return {"reviews": [_review_body(r) for r in _reviews(status, limit)]}

    def _reviews(status: str, limit: int) -> list[Review]:
        with agent.transaction() as session:
            return list(
                session.scalars(
                    select(Review).where(Review.status == status).order_by(Review.id).limit(limit)
                )
            )

    @app.post(
        "/v1/reviews/{review_id}",
        tags=["review"],
        dependencies=[authorised_only],
        responses=error_responses(401, 404, 409, 413, 422),
    )
    def decide(review_id: RowId, body: DecisionIn) -> dict[str, Any]:
        """`Blocked` (confirmed NCII, removed) or `NotBlocked`; the hub is told."""
        return _review_body(agent.decide(review_id, body.decision, body.moderator))

    @app.get(
        "/v1/reviews/{review_id}/media",
        tags=["review"],
        dependencies=[authorised_only],
        responses={
            200: {
                "description": "The file, as uploaded.",
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in ("application/octet-stream", "image/*", "video/*")
                },
            },
            **error_responses(401, 404, 422),
        },
    )
    def media(review_id: RowId) -> FileResponse:
        """The uploaded file held for this review (until decided or the retention limit)."""
        with agent.transaction() as session:
            review = session.get(Review, review_id)
        if review is None or not review.media_path or not Path(review.media_path).exists():
            raise AgentError(404, "no_media", "No file is held for this review.")
        return FileResponse(review.media_path, headers=_SECURITY)

    @app.post(
        "/v1/negative",
        tags=["negative bank"],
        dependencies=[authorised_only],
        responses=error_responses(401, 413, 422),
    )
    def negative(body: NegativeIn) -> dict[str, int]:
        """Add benign hashes; content that matches one is never reported."""
        signals = validate_signals([s.model_dump() for s in body.signals])
        return {"added": agent.add_negative(signals, body.note)}

    @app.get(
        "/v1/negative",
        tags=["negative bank"],
        dependencies=[authorised_only],
        responses={200: {"links": NEGATIVE_LINKS}, **error_responses(401)},
    )
    def negative_list() -> dict[str, Any]:
        """The negative bank, oldest first."""
        return {
            "entries": [
                {
                    "id": e.id,
                    "signal": {"type": e.signal_type, "value": e.signal_value},
                    "note": e.note,
                    "created_at": e.created_at.isoformat(),
                }
                for e in agent.negative_entries()
            ]
        }

    @app.delete(
        "/v1/negative/{entry_id}",
        tags=["negative bank"],
        dependencies=[authorised_only],
        responses=error_responses(401, 404, 422),
    )
    def negative_remove(entry_id: RowId) -> dict[str, int]:
        """Take a hash out of the negative bank."""
        agent.remove_negative(entry_id)
        return {"removed": entry_id}

    # --- the moderator page -----------------------------------------------------------------

    def moderator(request: Request) -> str | None:
        return moderators.who(request.cookies.get(_COOKIE))

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        request: Request = context.pop("request")
        lang = i18n.negotiate(
            request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
        )
        i18n.activate(lang.code)
        html = _PAGES.get_template(name).render(lang=lang, **context)
        return HTMLResponse(html, status_code=status, headers=_SECURITY)

    @app.get("/review", response_class=HTMLResponse, include_in_schema=False)
    def review_page(request: Request) -> HTMLResponse:
        who = moderator(request)
        if who is None:
            return page("agent_signin.html", request=request)
        held = _reviews("pending", 200)
        csrf = moderators.csrf(request.cookies.get(_COOKIE, ""))
        return page("agent_review.html", request=request, reviews=held, moderator=who, csrf=csrf)

    # Counted in the agent's database (or Redis), so every worker process shares the count.
    storage = make_storage(
        agent.settings.rate_limit_storage, agent.engine, RATE_LIMIT_COUNTERS, clock
    )
    limiter = RateLimiter(storage, clock)
    signin_rate = parse("10/minute")

    @app.post("/review/signin", include_in_schema=False)
    def signin(
        request: Request,
        token: Annotated[str, Form(max_length=200)],
        name: Annotated[str, Form(max_length=60)],
    ) -> Response:
        client = request.client.host if request.client else "unknown"
        # Counted before the token is compared, so parallel guesses cannot pass the limit.
        if not limiter.hit(signin_rate, "agent-signin", client):
            return page("agent_signin.html", request=request, status=429, error=True, busy=True)
        if not authorised(token) or not name.strip():
            return page("agent_signin.html", request=request, status=401, error=True)
        moderators.end(request.cookies.get(_COOKIE))  # a new sign-in replaces this browser's
        response = RedirectResponse("/review", status_code=303)
        response.set_cookie(
            _COOKIE,
            moderators.start(name.strip()),
            httponly=True,
            samesite="strict",
            secure=https_in_effect(agent.settings.https, request.scope),
            max_age=int(moderators.absolute.total_seconds()),
        )
        return response

    @app.post("/review/signout", include_in_schema=False)
    def signout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
        cookie = request.cookies.get(_COOKIE)
        if moderator(request) is not None and not moderators.csrf_matches(cookie, csrf):
            return page("agent_signin.html", request=request, status=403, error=True)
        moderators.end(cookie)
        response = page("agent_signin.html", request=request, signed_out=True)
        response.delete_cookie(_COOKIE)
        return response

    @app.post("/review/{review_id}", include_in_schema=False)
    def decide_page(
        request: Request,
        review_id: int,
        decision: Annotated[str, Form()],
        csrf: Annotated[str, Form()],
    ) -> Response:
        who = moderator(request)
        if who is None or not moderators.csrf_matches(request.cookies.get(_COOKIE), csrf):
            return page("agent_signin.html", request=request, status=403, error=True)
        agent.decide(review_id, decision, who)
        return RedirectResponse("/review", status_code=303)

    app.include_router(quarantine_router(agent, authorised_only))
    app.add_middleware(SecurityHeaders, https=agent.settings.https)
    app.add_middleware(BodySizeLimit, limit=agent.settings.max_upload_bytes)
    return app


def _review_body(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "hub": review.hub,
        "signal": {"type": review.signal_type, "value": review.signal_value},
        "item": review.item,
        "distance": review.distance,
        "content_id": review.content_id,
        "status": review.status,
        "has_media": review.media_path is not None,
        "created_at": review.created_at.isoformat(),
        "decided_at": review.decided_at.isoformat() if review.decided_at else None,
        "decided_by": review.decided_by,
    }

"""The agent's HTTP side: `check` for the platform's upload pipeline, the review queue (API and
a moderator page), the negative bank, health, readiness and metrics."""

from __future__ import annotations

import hashlib
import hmac
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import select

from redress.agent.models import Review
from redress.agent.service import (
    Agent,
    AgentBusyError,
    AgentError,
    CheckResult,
    check_vpdq_bounds,
    validate_signals,
)
from redress.web import i18n
from redress.web.agent_bounds import inline_schema, run_bounded, run_json
from redress.web.agent_quarantine import quarantine_router
from redress.web.app import BodySizeLimit, error_body
from redress.web.moderator_sessions import ModeratorSessions
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


class SignalIn(BaseModel):
    """A hash the platform already computed."""

    type: str = Field(max_length=16)
    value: str = Field(max_length=2_000_000)


class CheckIn(BaseModel):
    """`POST /v1/check` with hashes."""

    signals: list[SignalIn] = Field(min_length=1, max_length=64)
    content_id: str | None = Field(default=None, max_length=200)


class BatchIn(BaseModel):
    """`POST /v1/check/batch`: several pieces of content at once."""

    requests: list[CheckIn] = Field(min_length=1)


class DecisionIn(BaseModel):
    """A moderator's verdict."""

    decision: str
    moderator: str = Field(default="api", max_length=100)


class NegativeIn(BaseModel):
    """Benign hashes for the negative bank."""

    signals: list[SignalIn] = Field(min_length=1, max_length=10_000)
    note: str | None = Field(default=None, max_length=500)


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


def create_agent_app(agent: Agent, *, start: bool = True) -> FastAPI:
    """The agent's application; `start` runs the feed followers and outbox with the app."""
    token_hash = hashlib.sha256(agent.token.encode()).digest()
    moderators = ModeratorSessions()

    def authorised(token: str | None) -> bool:
        return token is not None and hmac.compare_digest(
            hashlib.sha256(token.encode()).digest(), token_hash
        )

    def bearer(authorization: str | None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and authorised(token.strip())

    def require_token(authorization: Annotated[str | None, Header()] = None) -> None:
        if not bearer(authorization):
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
    authorised_only = Depends(require_token)

    @app.exception_handler(AgentError)
    async def _agent_error(_request: Request, exc: AgentError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.detail), status_code=exc.status)

    @app.exception_handler(AgentBusyError)
    async def _busy(_request: Request, exc: AgentBusyError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.detail),
            status_code=exc.status,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse(
            error_body("invalid_request", f"The request is not valid: {problems}"), status_code=422
        )

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz(authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        """200 once every enabled hub's bank is loaded and caught up once; 503 before.

        Each hub's progress (names, last error) only with the agent token."""
        ok, hubs = agent.ready()
        body: dict[str, Any] = {"status": "ready" if ok else "starting"}
        if bearer(authorization):
            body["hubs"] = hubs
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"], dependencies=[authorised_only])
    def metrics() -> Response:
        """Prometheus metrics: index size, sync lag, check latency, decisions, outbox."""
        return Response(generate_latest(agent.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/hubs", tags=["ops"], dependencies=[authorised_only])
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

    @app.post("/v1/check", tags=["check"], dependencies=[authorised_only])
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

    def _check_hashes(body: CheckIn) -> CheckResult:
        raw = [s.model_dump() for s in body.signals]
        settings = agent.settings
        check_vpdq_bounds(raw, settings.max_vpdq_signals, settings.max_vpdq_frames)
        return agent.check(validate_signals(raw))

    @app.post(
        "/v1/check/batch",
        tags=["check"],
        dependencies=[authorised_only],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": inline_schema(BatchIn)}},
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

    @app.get("/v1/reviews", tags=["review"], dependencies=[authorised_only])
    def reviews(status: str = "pending", limit: int = 100) -> dict[str, Any]:
        """Held matches, oldest first."""
        return {"reviews": [_review_body(r) for r in _reviews(status, limit)]}

    def _reviews(status: str, limit: int) -> list[Review]:
        with agent.transaction() as session:
            return list(
                session.scalars(
                    select(Review)
                    .where(Review.status == status)
                    .order_by(Review.id)
                    .limit(max(1, min(limit, 1000)))
                )
            )

    @app.post("/v1/reviews/{review_id}", tags=["review"], dependencies=[authorised_only])
    def decide(review_id: int, body: DecisionIn) -> dict[str, Any]:
        """`Blocked` (confirmed NCII, removed) or `NotBlocked`; the hub is told."""
        return _review_body(agent.decide(review_id, body.decision, body.moderator))

    @app.get("/v1/reviews/{review_id}/media", tags=["review"], dependencies=[authorised_only])
    def media(review_id: int) -> FileResponse:
        """The uploaded file held for this review (until decided or the retention limit)."""
        with agent.transaction() as session:
            review = session.get(Review, review_id)
        if review is None or not review.media_path or not Path(review.media_path).exists():
            raise AgentError(404, "no_media", "No file is held for this review.")
        return FileResponse(review.media_path, headers=_SECURITY)

    @app.post("/v1/negative", tags=["negative bank"], dependencies=[authorised_only])
    def negative(body: NegativeIn) -> dict[str, int]:
        """Add benign hashes; content that matches one is never reported."""
        signals = validate_signals([s.model_dump() for s in body.signals])
        return {"added": agent.add_negative(signals, body.note)}

    @app.get("/v1/negative", tags=["negative bank"], dependencies=[authorised_only])
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

    @app.delete("/v1/negative/{entry_id}", tags=["negative bank"], dependencies=[authorised_only])
    def negative_remove(entry_id: int) -> dict[str, int]:
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

    limiter = MovingWindowRateLimiter(MemoryStorage())
    signin_rate = parse("10/minute")

    @app.post("/review/signin", include_in_schema=False)
    def signin(
        request: Request,
        token: Annotated[str, Form(max_length=200)],
        name: Annotated[str, Form(max_length=60)],
    ) -> Response:
        client = request.client.host if request.client else "unknown"
        if not limiter.test(signin_rate, "agent-signin", client):
            return page("agent_signin.html", request=request, status=429, error=True, busy=True)
        if not authorised(token) or not name.strip():
            limiter.hit(signin_rate, "agent-signin", client)
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

"""The moderator's review page (`/review`): sign in with the agent token and a name, see the
held matches, decide them. Server-rendered, translated, no script."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from limits import parse

from redress.agent.auth import agent_token
from redress.agent.events import EventKind, record_event
from redress.agent.review import service
from redress.agent.review.api import PRIVATE_HEADERS
from redress.agent.review.deps import Reviewer, ReviewerDep
from redress.agent.review.models import ReviewStatus
from redress.agent.review.sessions import ModeratorSessions
from redress.web import i18n
from redress.web.ratelimit import RateLimiter
from redress.web.security_headers import https_in_effect

_PAGES = Environment(
    loader=PackageLoader("redress.agent.review", "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)
_PAGES.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)
_PAGES.policies["ext.i18n.trimmed"] = True
COOKIE = "redress_moderator"
SIGNIN_RATE = parse("10/minute")

router = APIRouter(include_in_schema=False)


def _moderators(request: Request) -> ModeratorSessions:
    moderators: ModeratorSessions = request.app.state.moderators
    return moderators


def _moderator(request: Request) -> str | None:
    return _moderators(request).who(request.cookies.get(COOKIE))


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = i18n.negotiate(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))
    i18n.activate(lang.code)
    html = _PAGES.get_template(name).render(lang=lang, **context)
    return HTMLResponse(html, status_code=status, headers=PRIVATE_HEADERS)


def _record(agent: Reviewer, kind: EventKind, name: str) -> None:
    # A moderator is named by a digest of the name they gave: the record links a sign-in to
    # its sign-out without holding the name.
    subject = "moderator:" + hashlib.sha256(name.encode()).hexdigest()[:16]
    with agent.transaction() as session:
        record_event(session, clock=agent.clock, kind=kind, subject=subject)


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, agent: ReviewerDep) -> HTMLResponse:
    """The held matches, or the sign-in form."""
    who = _moderator(request)
    if who is None:
        return _page(request, "agent_signin.html")
    with agent.transaction() as session:
        held = service.listed(session, status=ReviewStatus.PENDING, limit=200)
    csrf = _moderators(request).csrf(request.cookies.get(COOKIE, ""))
    return _page(request, "agent_review.html", reviews=held, moderator=who, csrf=csrf)


@router.post("/review/signin")
def signin(
    request: Request,
    agent: ReviewerDep,
    token: Annotated[str, Form(max_length=200)],
    name: Annotated[str, Form(max_length=60)],
) -> Response:
    """Sign a moderator in with the agent token (10 attempts a minute per address)."""
    moderators = _moderators(request)
    limiter: RateLimiter = request.app.state.signin_limiter
    client = request.client.host if request.client else "unknown"
    # Counted before the token is compared, so parallel guesses cannot pass the limit.
    if not limiter.hit(SIGNIN_RATE, "agent-signin", client):
        return _page(request, "agent_signin.html", status=429, error=True, busy=True)
    if not agent_token(request).matches(token) or not name.strip():
        return _page(request, "agent_signin.html", status=401, error=True)
    moderators.end(request.cookies.get(COOKIE))  # a new sign-in replaces this browser's
    response = RedirectResponse("/review", status_code=303)
    response.set_cookie(
        COOKIE,
        moderators.start(name.strip()),
        httponly=True,
        samesite="strict",
        secure=https_in_effect(agent.settings.https, request.scope),
        max_age=int(moderators.absolute.total_seconds()),
    )
    _record(agent, EventKind.MODERATOR_SIGNED_IN, name.strip())
    return response


@router.post("/review/signout")
def signout(
    request: Request, agent: ReviewerDep, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """End this browser's sign-in."""
    moderators = _moderators(request)
    cookie = request.cookies.get(COOKIE)
    who = _moderator(request)
    if who is not None and not moderators.csrf_matches(cookie, csrf):
        return _page(request, "agent_signin.html", status=403, error=True)
    moderators.end(cookie)
    if who is not None:
        _record(agent, EventKind.MODERATOR_SIGNED_OUT, who)
    response = _page(request, "agent_signin.html", signed_out=True)
    response.delete_cookie(COOKIE)
    return response


@router.post("/review/{review_id}")
def decide_page(
    request: Request,
    agent: ReviewerDep,
    review_id: int,
    decision: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    """A verdict from the page's form."""
    who = _moderator(request)
    if who is None or not _moderators(request).csrf_matches(request.cookies.get(COOKIE), csrf):
        return _page(request, "agent_signin.html", status=403, error=True)
    agent.decide(review_id, decision, who)
    return RedirectResponse("/review", status_code=303)

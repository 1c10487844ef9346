"""The portal's cookies and sign-in sessions, and the quick exit's server side.

A sign-in is a row in `portal_sessions` (`redress.hub.portal_sessions`); the browser's cookie
holds only its random token, signed with a key derived from the hub's secret. The token says
nothing about the case, and ending the session on the server (sign-out, quick exit, withdrawing
the case, time) makes every copy of the cookie worthless.

CSRF is double-submit: a random value in a SameSite=Strict, HttpOnly cookie that every form
(and the quick exit's beacon and link) sends back.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, Signer
from sqlalchemy.exc import SQLAlchemyError

from redress.hub.cases import portal_sessions
from redress.hub.context import HubContext, hub
from redress.web.security_headers import https_in_effect

CSRF_COOKIE = "redress_csrf"
SESSION_COOKIE = "redress_case"

router = APIRouter(include_in_schema=False)
Hub = Annotated[HubContext, Depends(hub)]


def set_cookie(
    response: Response,
    request: Request,
    context: HubContext,
    name: str,
    value: str,
    *,
    max_age: int | None,
) -> None:
    """Set a portal cookie: HttpOnly, SameSite=Strict, and Secure when HTTPS is in effect."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=https_in_effect(context.settings.https_mode, request.scope),
        path="/",
    )


def csrf_matches(request: Request, submitted: str) -> bool:
    """Whether the submitted CSRF value is the one in this browser's CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), submitted.encode())


def no_store_redirect(url: str) -> RedirectResponse:
    """A 303 to `url` that no cache keeps."""
    response = RedirectResponse(url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- sessions ---------------------------------------------------------------------------------


def _signer(context: HubContext) -> Signer:
    """Signs the session token, so that made-up cookies are turned away without a lookup."""
    return Signer(context.box.derive("portal-session"), salt="portal-session")


def _clock(request: Request) -> Callable[[], datetime]:
    """The sessions' clock: the hub's, or one a test put on the app as `state.portal_clock`."""
    clock: Callable[[], datetime] = getattr(
        request.app.state, "portal_clock", hub(request).clock.now
    )
    return clock


def _limits(context: HubContext) -> portal_sessions.SessionLimits:
    settings = context.settings
    return portal_sessions.SessionLimits.minutes(
        settings.portal_session_minutes, settings.portal_idle_minutes
    )


def _session_token(request: Request, context: HubContext) -> str | None:
    """The random token in the session cookie, if the cookie is there and signed by this hub."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or len(cookie) > 200:
        return None
    try:
        return _signer(context).unsign(cookie).decode()
    except BadSignature:
        return None


def signed_in_case(request: Request, context: HubContext) -> int | None:
    """The internal id of the case this browser is signed in to, while its session lives."""
    token = _session_token(request, context)
    if token is None:
        return None
    with context.transaction() as session:
        return portal_sessions.resolve(session, token, _limits(context), _clock(request)())


def end_session(request: Request, context: HubContext) -> None:
    """End this browser's session on the server (nothing happens when there is none)."""
    token = _session_token(request, context)
    if token is not None:
        with context.transaction() as session:
            portal_sessions.end(session, token, _clock(request)())


def sign_in(request: Request, context: HubContext, case_id: int, response: Response) -> None:
    """Start a session for the case and put its cookie on `response`; any earlier session of
    this browser ends."""
    end_session(request, context)
    with context.transaction() as session:
        token = portal_sessions.start(session, case_id, _limits(context), _clock(request)())
    set_cookie(
        response,
        request,
        context,
        SESSION_COOKIE,
        _signer(context).sign(token).decode(),
        max_age=context.settings.portal_session_minutes * 60,
    )


def forget(response: Response) -> Response:
    """Tell the browser to drop the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- quick exit -------------------------------------------------------------------------------


@router.get("/exit")
def quick_exit(request: Request, context: Hub, csrf: str = "") -> Response:
    """The quick exit without JavaScript: end the sign-in, then straight to the neutral page.

    The page's script ends it with a beacon to `POST /exit` instead and leaves without waiting.
    Leaving always works: a wrong token or a database problem only means the session is not
    ended here (it still ends by time).
    """
    if csrf_matches(request, csrf[:100]):
        # Leave at once whatever happens; a session not ended here still ends by time.
        with contextlib.suppress(SQLAlchemyError):
            end_session(request, context)
    return forget(no_store_redirect(context.settings.quick_exit_url))


@router.post("/exit", status_code=204)
def quick_exit_beacon(
    request: Request, context: Hub, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """The quick-exit button's beacon, sent as the page leaves: end the sign-in."""
    if not csrf_matches(request, csrf):
        return Response(status_code=403, headers={"Cache-Control": "no-store"})
    end_session(request, context)
    return forget(Response(status_code=204, headers={"Cache-Control": "no-store"}))

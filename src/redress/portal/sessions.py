"""The portal's sign-ins: a row in `portal_sessions` (`redress.hub.cases.portal_sessions`) and a
cookie that holds only its random token, signed with a key derived from the hub's secret
(`redress.web.signed_sessions`). The token says nothing about the case, and ending the session on
the server (sign-out, quick exit, withdrawing the case, time) makes every copy of the cookie
worthless. Times come from the hub's clock.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from redress.hub.cases import portal_sessions
from redress.hub.context import HubContext
from redress.portal.pages import set_cookie
from redress.web.signed_sessions import SignedCookie

COOKIE = "redress_case"


def _cookie(context: HubContext) -> SignedCookie:
    """Signs the session token, so that made-up cookies are turned away without a lookup."""
    return SignedCookie(context.box.derive("portal-session"), salt="portal-session")


def _limits(context: HubContext) -> portal_sessions.SessionLimits:
    settings = context.settings
    return portal_sessions.SessionLimits.minutes(
        settings.portal_session_minutes, settings.portal_idle_minutes
    )


def signed_in_case(request: Request, context: HubContext) -> int | None:
    """The internal id of the case this browser is signed in to, while its session lives."""
    token = _cookie(context).unsign(request.cookies.get(COOKIE))
    if token is None:
        return None
    with context.transaction() as session:
        return portal_sessions.resolve(session, token, _limits(context), context.clock.now())


def end_session(request: Request, context: HubContext) -> None:
    """End this browser's session on the server (nothing happens when there is none)."""
    token = _cookie(context).unsign(request.cookies.get(COOKIE))
    if token is not None:
        with context.transaction() as session:
            portal_sessions.end(session, token, context.clock.now())


def sign_in(request: Request, context: HubContext, case_id: int, response: Response) -> None:
    """Start a session for the case and put its cookie on `response`; any earlier session of
    this browser ends."""
    end_session(request, context)
    with context.transaction() as session:
        token = portal_sessions.start(session, case_id, _limits(context), context.clock.now())
    set_cookie(
        response,
        request,
        context,
        COOKIE,
        _cookie(context).sign(token),
        max_age=context.settings.portal_session_minutes * 60,
    )


def forget(response: Response) -> Response:
    """Tell the browser to drop the session cookie."""
    response.delete_cookie(COOKIE, path="/")
    return response

"""Signing in to a case with its number and PIN, signing out, and the quick exit's server side.

CSRF is double-submit (`redress.web.csrf`): every form, and the quick exit's request and link,
sends back the value of a SameSite=Strict, HttpOnly cookie.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from redress.core.errors import RedressError
from redress.hub.cases import service as cases
from redress.hub.context import client_address
from redress.portal.guard import expired
from redress.portal.messages import (
    PortalCode,
    PortalError,
    error_message,
    message_for,
    notice_text,
    problem,
)
from redress.portal.pages import Hub, PortalRoute, language, no_store_redirect, render
from redress.portal.sessions import end_session, forget, sign_in, signed_in_case
from redress.portal.status import case_page
from redress.web.csrf import matches as csrf_matches

router = APIRouter(include_in_schema=False, route_class=PortalRoute)


@router.get("/exit")
def quick_exit(request: Request, context: Hub, csrf: str = "") -> Response:
    """The quick exit without JavaScript: end the sign-in, then straight to the neutral page.

    The page's script ends it with `POST /exit` instead and leaves once that is answered (or
    after a short, bounded wait).
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
    """The quick-exit script's request, awaited (bounded) before the page leaves: end the
    sign-in and drop its cookie."""
    if not csrf_matches(request, csrf):
        return Response(status_code=403, headers={"Cache-Control": "no-store"})
    end_session(request, context)
    return forget(Response(status_code=204, headers={"Cache-Control": "no-store"}))


@router.get("/status", response_class=HTMLResponse, name="status_login")
def status_login(request: Request, context: Hub, notice: str | None = None) -> Response:
    """Sign in to a case with its number and PIN."""
    if signed_in_case(request, context) is not None and notice is None:
        return no_store_redirect(str(request.url_for("status_page")))
    return render(request, "status_login.html", context, notice=notice_text(notice))


@router.post("/status", response_class=HTMLResponse)
def status_sign_in(
    request: Request,
    context: Hub,
    csrf: Annotated[str, Form(max_length=100)] = "",
    case_number: Annotated[str, Form(max_length=40)] = "",
    pin: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Check the number and PIN (rate-limited, lock-out), then keep the sign-in in a cookie."""
    language(request)
    client = client_address(request)
    try:
        if not csrf_matches(request, csrf):
            raise PortalError(PortalCode.CSRF)
        context.rate_limit("status", context.settings.status_rate, client)
        case_id = cases.verify_case(
            context.transaction,
            guard=context.guard,
            case_number=case_number,
            pin=pin.strip(),
            client=client,
        )
    except RedressError as exc:
        refusal = problem(exc)
        return render(
            request,
            "status_login.html",
            context,
            status=401 if refusal.code == "wrong_case_or_pin" else refusal.status,
            error=message_for(refusal),
            case_number=case_number[:40],
        )
    except OperationalError:
        busy = error_message(PortalCode.BUSY)
        return render(request, "status_login.html", context, status=503, error=busy)
    response = no_store_redirect(str(request.url_for("status_page")))
    try:
        sign_in(request, context, case_id, response)
    except OperationalError:
        busy = error_message(PortalCode.BUSY)
        return render(request, "status_login.html", context, status=503, error=busy)
    return response


@router.post("/status/signout")
def sign_out(
    request: Request, context: Hub, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """End the sign-in, on the server (a copy of the cookie stops working) and on this device."""
    language(request)
    if not csrf_matches(request, csrf):
        case_id = signed_in_case(request, context)
        if case_id is None:
            return expired(request, context)
        return case_page(request, context, case_id, None, PortalCode.CSRF, status=403)
    try:
        end_session(request, context)
    except OperationalError:  # this device forgets it now; on the server it ends by time
        busy = error_message(PortalCode.BUSY)
        return forget(render(request, "status_login.html", context, status=503, error=busy))
    return forget(no_store_redirect(str(request.url_for("status_login")) + "?notice=signed_out"))

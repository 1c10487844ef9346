"""How every portal page is made: the templates in the survivor's language, the CSRF cookie,
the strict headers, the strings handed to the browser's scripts, and the route class that turns
a busy database into the translated busy page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import OperationalError

from redress.hub.context import HubContext, hub
from redress.portal.messages import PortalCode, error_message
from redress.web import csrf, i18n
from redress.web.busy import RETRY_AFTER_SECONDS, is_busy
from redress.web.i18n import gettext as _
from redress.web.i18n import lazy as _l
from redress.web.security_headers import https_in_effect

TEMPLATES = Path(__file__).parent / "templates"
#: The portal's stylesheet, icon and the browser's hashing modules (mounted at /static).
STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "media-src blob:; worker-src 'self'; connect-src 'self'; font-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "X-Frame-Options": "DENY",
}

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)
_environment.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)
_environment.policies["ext.i18n.trimmed"] = True
templates = Jinja2Templates(env=_environment)

Hub = Annotated[HubContext, Depends(hub)]

#: Strings the browser code shows, translated on the server and handed over as JSON.
JS_MESSAGES: dict[str, str] = {
    "reading": _l("Reading the file…"),
    "hashing": _l("Making the hashes…"),
    "hashingVideo": _l("Making the hashes: second %(done)s of %(total)s…"),
    "hashed": _l("Ready: %(count)s hashes made on this device."),
    "remove": _l("Remove"),
    "removeNamed": _l("Remove %(name)s"),
    "video": _l("Video"),
    "cannotDecode": _l(
        "This browser cannot open this file, so it cannot make its hashes. If it is an iPhone "
        "photo (HEIC), open it and share or save it as JPEG (“Most Compatible” in the camera "
        "settings), or try another browser such as Safari, then choose the JPEG copy here."
    ),
    "notMedia": _l("This is not a picture or a video. Choose image or video files only."),
    "tooFlat": _l(
        "This picture is too plain (for example mostly one colour) to be recognised reliably, so "
        "it cannot be added. If you have another copy of it, try that one."
    ),
    "tooSmall": _l("This picture is too small to be recognised. Try a larger copy."),
    "videoNoFrames": _l(
        "This browser could not read the pictures in this video, so only its exact fingerprint "
        "(which finds identical copies) will be sent."
    ),
    "failed": _l("Something went wrong while reading this file. Try it again or choose another."),
    "summary": _l("%(files)s files ready, %(hashes)s hashes in all."),
    "nothingReady": _l("Choose at least one picture or video that can be hashed."),
    "busy": _l("Please wait until every file is ready."),
    "copied": _l("Copied."),
    "copyFailed": _l("Copying did not work here; select the text and copy it yourself."),
    "fileHeader": _l("Your case number and PIN"),
    "fileWarning": _l(
        "Keep this safe. Anyone with both can see and withdraw your case. They cannot be "
        "recovered if lost."
    ),
    "caseNumber": _l("Case number"),
    "pin": _l("PIN"),
    "statusPage": _l("Check your case at"),
}


def language(request: Request) -> i18n.Language:
    """The page's language (the switcher's cookie, else the browser's), active from now on."""
    chosen = i18n.negotiate(
        request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
    )
    i18n.activate(chosen.code)
    return chosen


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


def render(
    request: Request,
    template: str,
    context: HubContext,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A portal page in the negotiated language, with the CSRF cookie and strict headers."""
    chosen = language(request)
    token = csrf.token_for(request)
    page_values = {
        "request": request,
        "lang": chosen,
        "languages": i18n.LANGUAGES,
        "csrf": token,
        "portal_name": context.settings.portal_name,
        "quick_exit_url": context.settings.quick_exit_url,
        "path": request.url.path,
        **values,
    }
    response = templates.TemplateResponse(request, template, page_values, status_code=status)
    for name, value in PAGE_HEADERS.items():
        response.headers[name] = value
    if csrf.needs_cookie(request, token):
        set_cookie(response, request, context, csrf.COOKIE, token, max_age=None)
    return response


def no_store_redirect(url: str) -> RedirectResponse:
    """A 303 to `url` that no cache keeps."""
    response = RedirectResponse(url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def statement(context: HubContext) -> dict[str, str]:
    """The statement in the reader's language when it is the shipped wording, else as set."""
    text = context.settings.statement_text
    return {"version": context.settings.statement_version, "text": _(text)}


def js_data(**extra: Any) -> str:
    """The JSON the page's scripts read: their translated strings and `extra`."""
    messages = {key: _(value) for key, value in JS_MESSAGES.items()}
    return json.dumps({"messages": messages, **extra}, ensure_ascii=False).replace("</", "<\\/")


def busy_page(request: Request) -> HTMLResponse:
    """The page for any portal route when the database is busy: 503 with Retry-After."""
    language(request)
    context: HubContext = request.app.state.hub
    message = error_message(PortalCode.BUSY)
    response = render(request, "busy.html", context, status=503, message=message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class PortalRoute(APIRoute):
    """A portal route: a database too busy to answer gives the translated busy page (503),
    never the API's JSON or a 500."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, answering a busy database with the busy page."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except OperationalError as exc:
                if not is_busy(exc):
                    raise
                return busy_page(request)

        return guarded

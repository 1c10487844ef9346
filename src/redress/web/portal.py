"""The survivor portal: pages served by the hub, in the survivor's language.

Images and videos are hashed in the browser (static/js); these routes only ever receive hashes.
Every form carries a CSRF token (double-submit: a SameSite=Strict cookie and a form field that
must match), every page is `no-store` under a strict Content-Security-Policy, and the case
sign-in is a server-side session (`redress.hub.portal_sessions`): the HttpOnly cookie holds only
a signed random token, and signing out, the quick exit and withdrawing the case end it on the
server, so a copied cookie stops working too.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import OperationalError

from redress.hub.bank.schemas import ItemIn
from redress.hub.bank.service import validate_items
from redress.hub.cases import service as cases
from redress.hub.cases.schemas import CaseStatus, ItemStatus
from redress.hub.context import HubContext, client_address, hub
from redress.hub.errors import HubError
from redress.web import i18n
from redress.web.helplines import load_helplines
from redress.web.i18n import gettext as _
from redress.web.i18n import lazy as _l
from redress.web.i18n import ngettext
from redress.web.portal_signin import (
    CSRF_COOKIE,
    csrf_matches,
    end_session,
    forget,
    set_cookie,
    sign_in,
    signed_in_case,
)
from redress.web.portal_signin import no_store_redirect as _redirect
from redress.web.portal_signin import router as signin_router

TEMPLATES = Path(__file__).parent / "templates"
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

router = APIRouter(include_in_schema=False)
router.include_router(signin_router)  # the quick exit's routes
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

#: Friendly words for the hub's error codes (the API's English `detail` is for developers).
ERROR_MESSAGES: dict[str, str] = {
    "wrong_case_or_pin": _l(
        "The case number or the PIN is not right. Check both and try again. After several wrong "
        "tries, the case is locked for a while to protect it."
    ),
    "locked": _l(
        "There have been too many wrong tries, so the case is locked for now to protect it. "
        "Please try again in about %(minutes)s minutes."
    ),
    "rate_limited": _l(
        "There have been a lot of requests from your connection. Please wait a few minutes and "
        "try again."
    ),
    "statement_changed": _l(
        "The statement was updated while you were on the page. Please read the new statement "
        "below and confirm it again. You will need to choose your files again."
    ),
    "case_withdrawn": _l("This case was withdrawn, so nothing can be added to it."),
    "invalid_signal": _l(
        "Something in the hashes was not right, so nothing was sent. Please choose the files again."
    ),
    "low_quality": _l(
        "One of the pictures is too plain to be recognised reliably. Remove it and try again."
    ),
    "too_many_items": _l("That is too many files at once. Please send at most 200 at a time."),
    "too_many_signals": _l(
        "One of the files has more hashes than this service accepts, so nothing was sent. "
        "Please choose the files again."
    ),
    "case_full": _l(
        "This case cannot hold any more files. Please create a new case for the other files."
    ),
    "unknown_item": _l("That item is not part of this case."),
    "invalid_email": _l("That does not look like an email address. Please check it."),
    "csrf": _l(
        "This form had expired, so nothing was changed. The page has been reloaded; please "
        "try again."
    ),
    "signed_out": _l("For your safety you were signed out. Enter your case number and PIN again."),
    "busy": _l("The service is busy right now. Please try again in a minute."),
    "bad_payload": _l(
        "The hashes did not arrive complete, so nothing was sent. Please choose the files again."
    ),
    "already_created": _l(
        "This submission was already received, and its PIN can no longer be shown. If you lost "
        "the PIN, submit your files again to get a new case."
    ),
    "idempotency_conflict": _l(
        "This page was already used for a different submission. Please start again."
    ),
}

NOTICES: dict[str, str] = {
    "withdrawn_item": _l("The item was withdrawn. Platforms are being told to stop matching it."),
    "withdrawn_case": _l(
        "Your case was withdrawn. Platforms are being told to stop matching its hashes. For your "
        "safety you were signed out on every device."
    ),
    "added": _l("Your new files were added to the case."),
    "contact_set": _l("We will email you when something changes."),
    "contact_removed": _l("Your email address was deleted. We will not email you."),
    "signed_out": _l("You are signed out."),
}


class Payload(BaseModel):
    """What the browser's hashing sends: items of hashes, never images."""

    model_config = ConfigDict(extra="forbid")

    items: list[ItemIn] = Field(min_length=1)


class PortalError(Exception):
    """A refusal to show on the page: an error code and the values its message needs."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


def error_message(code: str, **values: Any) -> str:
    """The translated, plain-language message for an error code."""
    template = ERROR_MESSAGES.get(code, ERROR_MESSAGES["busy"])
    return _(template) % values if values else _(template)


def _language(request: Request) -> i18n.Language:
    chosen = i18n.negotiate(
        request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
    )
    i18n.activate(chosen.code)
    return chosen


def _csrf_token(request: Request) -> str:
    token = request.cookies.get(CSRF_COOKIE)
    if token and 20 <= len(token) <= 64:
        return token
    return secrets.token_urlsafe(32)


def render(
    request: Request,
    template: str,
    context: HubContext,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A portal page in the negotiated language, with the CSRF cookie and strict headers."""
    language = _language(request)
    token = _csrf_token(request)
    page_values = {
        "request": request,
        "lang": language,
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
    if request.cookies.get(CSRF_COOKIE) != token:
        set_cookie(response, request, context, CSRF_COOKIE, token, max_age=None)
    return response


def _check_csrf(request: Request, submitted: str) -> None:
    if not csrf_matches(request, submitted):
        raise PortalError("csrf")


def _statement(context: HubContext) -> dict[str, str]:
    """The statement in the reader's language when it is the shipped wording, else as set."""
    text = context.settings.statement_text
    return {"version": context.settings.statement_version, "text": _(text)}


def _js_data(**extra: Any) -> str:
    messages = {key: _(value) for key, value in JS_MESSAGES.items()}
    return json.dumps({"messages": messages, **extra}, ensure_ascii=False).replace("</", "<\\/")


def _parse_payload(raw: str) -> list[ItemIn]:
    try:
        payload = Payload.model_validate_json(raw)
    except ValidationError:
        raise PortalError("bad_payload") from None
    return payload.items


def _problem(exc: HubError | PortalError) -> PortalError:
    """What to tell the survivor about a refusal from the hub's services or from the portal."""
    if isinstance(exc, PortalError):
        return exc
    if exc.code == "locked":
        minutes = max(1, round((exc.retry_after or 900) / 60))
        return PortalError("locked", minutes=minutes)
    return PortalError(exc.code if exc.code in ERROR_MESSAGES else "busy")


def describe_item(item: ItemStatus) -> list[str]:
    """An item's outcome in words, one sentence per fact."""
    if item.status == "withdrawn":
        return [_("Withdrawn. Platforms were told to stop matching it.")]
    if item.status == "checking":
        return [_("Being checked by our staff before it is shared with platforms.")]
    if item.disputed:
        return [
            _(
                "Paused: platforms reported that this hash matches pictures that are not yours, "
                "so our staff are checking it."
            )
        ]
    if item.platforms_matched == 0:
        return [_("No platform has reported a match so far.")]
    n = item.platforms_matched
    words = [ngettext("Matched on %(n)s platform.", "Matched on %(n)s platforms.", n) % {"n": n}]
    if item.platforms_removed:
        k = item.platforms_removed
        words.append(ngettext("Removed on %(n)s.", "Removed on %(n)s.", k) % {"n": k})
    if item.platforms_reviewing:
        k = item.platforms_reviewing
        words.append(ngettext("Under review on %(n)s.", "Under review on %(n)s.", k) % {"n": k})
    if item.platforms_not_confirmed:
        k = item.platforms_not_confirmed
        words.append(
            ngettext(
                "Not removed on %(n)s: its moderators found it was not your image.",
                "Not removed on %(n)s: their moderators found it was not your image.",
                k,
            )
            % {"n": k}
        )
    return words


# --- pages ------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, context: Hub) -> HTMLResponse:
    """What the service does and does not do, who it is for, and where to start."""
    return render(request, "index.html", context)


@router.get("/submit", response_class=HTMLResponse)
def submit_page(request: Request, context: Hub) -> HTMLResponse:
    """Choose files, hash them here, review, accept the statement, send the hashes."""
    return _submit_form(request, context)


def _submit_form(
    request: Request,
    context: HubContext,
    *,
    error: str | None = None,
    status: int = 200,
    mode: str = "create",
) -> HTMLResponse:
    """The choose-and-hash page: creating a case (statement, idempotency key) or adding files."""
    creating = mode == "create"
    return render(
        request,
        "submit.html",
        context,
        status=status,
        statement=_statement(context) if creating else None,
        js_data=_js_data(),
        idempotency_key=secrets.token_urlsafe(24) if creating else None,
        error=error,
        mode=mode,
    )


@router.post("/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    context: Hub,
    csrf: Annotated[str, Form(max_length=100)] = "",
    payload: Annotated[str, Form(max_length=1_900_000)] = "",
    statement_version: Annotated[str, Form(max_length=64)] = "",
    idempotency_key: Annotated[str, Form(min_length=8, max_length=128)] = "unset-key",
    agree: Annotated[str, Form(max_length=8)] = "",
) -> HTMLResponse:
    """Create the case from the hashes and show the case number and PIN, once."""
    _language(request)
    try:
        _check_csrf(request, csrf)
        if agree != "yes":
            raise PortalError("bad_payload")
        items = _parse_payload(payload)
        client = client_address(request)
        context.rate_limit("create", context.settings.case_creation_rate, client)
        valid = validate_items(items, context.settings)
        with context.transaction() as session:
            created = cases.create_case(
                session,
                settings=context.settings,
                box=context.box,
                statement_version=statement_version,
                items=valid,
                idempotency_key=idempotency_key,
                client=client,
                clock=context.clock,
            )
    except (HubError, PortalError) as exc:
        return _submit_form(request, context, error=_message(_problem(exc)), status=_status(exc))
    except OperationalError:
        return _submit_form(request, context, error=error_message("busy"), status=503)
    status_url = str(request.url_for("status_login"))
    return render(
        request,
        "credentials.html",
        context,
        case_number=created.case_number,
        pin=created.pin,
        items=len(valid),
        js_data=_js_data(
            credentials={
                "caseNumber": created.case_number,
                "pin": created.pin,
                "statusUrl": status_url,
            },
        ),
    )


def busy_page(request: Request) -> HTMLResponse:
    """The page for any portal route when the database is busy (503; see redress.web.busy)."""
    _language(request)
    context: HubContext = request.app.state.hub
    return render(request, "busy.html", context, status=503, message=error_message("busy"))


def _message(exc: PortalError) -> str:
    return error_message(exc.code, **exc.values)


def _status_of(exc: PortalError) -> int:
    return {"csrf": 403, "bad_payload": 422, "locked": 429, "rate_limited": 429}.get(exc.code, 400)


def _status(exc: HubError | PortalError) -> int:
    """The HTTP status of a page showing this refusal: the hub's own, or the portal's."""
    return exc.status if isinstance(exc, HubError) else _status_of(exc)


@router.get("/status", response_class=HTMLResponse, name="status_login")
def status_login(request: Request, context: Hub, notice: str | None = None) -> HTMLResponse:
    """Sign in to a case with its number and PIN."""
    if signed_in_case(request, context) is not None and notice is None:
        return _redirect(str(request.url_for("status_page")))  # type: ignore[return-value]
    shown = _(NOTICES[notice]) if notice in NOTICES else None
    return render(request, "status_login.html", context, notice=shown)


@router.post("/status", response_class=HTMLResponse)
def status_sign_in(
    request: Request,
    context: Hub,
    csrf: Annotated[str, Form(max_length=100)] = "",
    case_number: Annotated[str, Form(max_length=40)] = "",
    pin: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Check the number and PIN (rate-limited, lock-out), then keep the sign-in in a cookie."""
    _language(request)
    client = client_address(request)
    try:
        _check_csrf(request, csrf)
        context.rate_limit("status", context.settings.status_rate, client)
        case_id = cases.verify_case(
            context.transaction,
            guard=context.guard,
            case_number=case_number,
            pin=pin.strip(),
            client=client,
        )
    except (HubError, PortalError) as exc:
        problem = _problem(exc)
        return render(
            request,
            "status_login.html",
            context,
            status=_status_of(problem) if problem.code != "wrong_case_or_pin" else 401,
            error=_message(problem),
            case_number=case_number[:40],
        )
    except OperationalError:
        busy = error_message("busy")
        return render(request, "status_login.html", context, status=503, error=busy)
    response = _redirect(str(request.url_for("status_page")))
    try:
        sign_in(request, context, case_id, response)
    except OperationalError:
        busy = error_message("busy")
        return render(request, "status_login.html", context, status=503, error=busy)
    return response


def _load_status(context: HubContext, case_id: int) -> CaseStatus:
    with context.transaction() as session:
        return cases.case_status(session, cases.load_case(session, case_id))


@router.get("/status/case", response_class=HTMLResponse, name="status_page")
def status_page(request: Request, context: Hub, notice: str | None = None) -> Response:
    """Each item's outcome in words, and what the survivor can do next."""
    _language(request)
    case_id = signed_in_case(request, context)
    if case_id is None:
        return _expired(request, context)
    return _case_page(request, context, case_id, notice, request.query_params.get("error"))


def _case_page(
    request: Request,
    context: HubContext,
    case_id: int,
    notice: str | None,
    error: str | None,
    status: int = 200,
) -> Response:
    try:
        case = _load_status(context, case_id)
    except HubError:
        return _expired(request, context)
    return render(
        request,
        "status.html",
        context,
        status=status,
        case=case,
        items=[(index, item, describe_item(item)) for index, item in enumerate(case.items, 1)],
        notice=_(NOTICES[notice]) if notice in NOTICES else None,
        error=error,
        error_message=error_message,
    )


def _expired(request: Request, context: HubContext) -> HTMLResponse:
    response = render(
        request, "status_login.html", context, status=401, error=error_message("signed_out")
    )
    forget(response)
    return response


@router.get("/status/withdraw", response_class=HTMLResponse)
def confirm_withdraw(request: Request, context: Hub, item: str | None = None) -> Response:
    """Ask before withdrawing an item (or, without `item`, the whole case)."""
    case_id = signed_in_case(request, context)
    if case_id is None:
        return _expired(request, context)
    status = _load_status(context, case_id)
    position = None
    if item is not None:
        refs = [entry.item for entry in status.items]
        if item not in refs:
            return _redirect(str(request.url_for("status_page")))
        position = refs.index(item) + 1
    return render(request, "withdraw.html", context, item=item, position=position)


@router.post("/status/withdraw", response_class=HTMLResponse)
def withdraw(
    request: Request,
    context: Hub,
    csrf: Annotated[str, Form(max_length=100)] = "",
    item: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """Withdraw the item or the case; platforms are told through the feed."""
    case_id = signed_in_case(request, context)
    if case_id is None:
        return _expired(request, context)
    try:
        _check_csrf(request, csrf)
        with context.transaction() as session:
            cases.withdraw(
                session, cases.load_case(session, case_id), item or None, clock=context.clock
            )
    except (HubError, PortalError) as exc:
        return _status_redirect(request, error=_problem(exc).code)
    if item:
        return _status_redirect(request, notice="withdrawn_item")
    # Withdrawing the case ended its sessions (on every device): say so on the sign-in page.
    return forget(_redirect(str(request.url_for("status_login")) + "?notice=withdrawn_case"))


def _status_redirect(request: Request, **query: str) -> RedirectResponse:
    return _redirect(str(request.url_for("status_page")) + "?" + urlencode(query))


@router.post("/status/contact", response_class=HTMLResponse)
def contact(
    request: Request,
    context: Hub,
    csrf: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    action: Annotated[str, Form(max_length=10)] = "save",
) -> Response:
    """Opt in to email notifications (stored encrypted) or out (the address is deleted)."""
    case_id = signed_in_case(request, context)
    if case_id is None:
        return _expired(request, context)
    try:
        _check_csrf(request, csrf)
        address = None if action == "remove" else email
        if address is not None and not address.strip():
            raise PortalError("invalid_email")
        with context.transaction() as session:
            cases.set_contact(
                session,
                cases.load_case(session, case_id),
                address,
                context.box,
                clock=context.clock,
            )
    except (HubError, PortalError) as exc:
        return _status_redirect(request, error=_problem(exc).code)
    return _status_redirect(request, notice="contact_removed" if address is None else "contact_set")


@router.get("/status/add", response_class=HTMLResponse)
def add_page(request: Request, context: Hub) -> Response:
    """Add more files to a signed-in case (hashed here, like the first ones)."""
    if signed_in_case(request, context) is None:
        return _expired(request, context)
    return _submit_form(request, context, mode="add")


@router.post("/status/add", response_class=HTMLResponse)
def add(
    request: Request,
    context: Hub,
    csrf: Annotated[str, Form(max_length=100)] = "",
    payload: Annotated[str, Form(max_length=1_900_000)] = "",
) -> Response:
    """Add the hashed files to the case."""
    case_id = signed_in_case(request, context)
    if case_id is None:
        return _expired(request, context)
    _language(request)
    try:
        _check_csrf(request, csrf)
        valid = validate_items(_parse_payload(payload), context.settings)
        with context.transaction() as session:
            case = cases.load_case(session, case_id)
            cases.add_items(session, case, valid, settings=context.settings, clock=context.clock)
    except (HubError, PortalError) as exc:
        return _submit_form(
            request, context, error=_message(_problem(exc)), status=_status(exc), mode="add"
        )
    return _status_redirect(request, notice="added")


@router.post("/status/signout")
def sign_out(
    request: Request, context: Hub, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """End the sign-in, on the server (a copy of the cookie stops working) and on this device."""
    _language(request)
    if not csrf_matches(request, csrf):
        case_id = signed_in_case(request, context)
        if case_id is None:
            return _expired(request, context)
        return _case_page(request, context, case_id, None, "csrf", status=403)
    try:
        end_session(request, context)
    except OperationalError:  # this device forgets it now; on the server it ends by time
        busy = error_message("busy")
        return forget(render(request, "status_login.html", context, status=503, error=busy))
    return forget(_redirect(str(request.url_for("status_login")) + "?notice=signed_out"))


@router.get("/support", response_class=HTMLResponse)
def support(request: Request, context: Hub) -> HTMLResponse:
    """Helplines by country, from the operator's file (or the built-in list)."""
    language = _language(request)
    groups = load_helplines(context.settings.helplines_file).by_country(language.code)
    return render(request, "support.html", context, groups=groups)


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, context: Hub, next: str = "/") -> Response:
    """Remember the chosen language (a cookie) and go back to the page."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = _redirect(target)
    chosen = i18n.language(code)
    set_cookie(response, request, context, i18n.COOKIE, chosen.code, max_age=365 * 24 * 3600)
    return response

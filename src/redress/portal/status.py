"""The case page: each item's outcome in words, what the survivor can do next, and the email
opt-in (stored encrypted) or opt-out."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from redress.core.errors import RedressError
from redress.hub.cases import service as cases
from redress.hub.cases.schemas import CaseStatus, ItemStatus
from redress.hub.context import HubContext
from redress.hub.errors import HubError
from redress.portal.guard import expired, requires_sign_in
from redress.portal.messages import PortalCode, PortalError, error_message, notice_text, problem
from redress.portal.pages import Hub, PortalRoute, language, no_store_redirect, render
from redress.web.csrf import matches as csrf_matches
from redress.web.i18n import gettext as _
from redress.web.i18n import ngettext

router = APIRouter(include_in_schema=False, route_class=PortalRoute)


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


def load_status(context: HubContext, case_id: int) -> CaseStatus:
    """The case's items and their outcomes, from the hub's case service."""
    with context.transaction() as session:
        return cases.case_status(session, cases.load_case(session, case_id))


def case_page(
    request: Request,
    context: HubContext,
    case_id: int,
    notice: str | None,
    error: str | None,
    status: int = 200,
) -> Response:
    """The case page, with a notice (by code) and an error (by code) to show, if any."""
    try:
        case = load_status(context, case_id)
    except HubError:
        return expired(request, context)
    return render(
        request,
        "status.html",
        context,
        status=status,
        case=case,
        items=[(index, item, describe_item(item)) for index, item in enumerate(case.items, 1)],
        notice=notice_text(notice),
        error=error,
        error_message=error_message,
    )


def status_redirect(request: Request, **query: str) -> RedirectResponse:
    """Back to the case page, with a notice or an error code in the query."""
    return no_store_redirect(str(request.url_for("status_page")) + "?" + urlencode(query))


@router.get("/status/case", response_class=HTMLResponse, name="status_page")
@requires_sign_in
def status_page(
    request: Request, context: Hub, case_id: int, notice: str | None = None
) -> Response:
    """Each item's outcome in words, and what the survivor can do next."""
    language(request)
    return case_page(request, context, case_id, notice, request.query_params.get("error"))


@router.post("/status/contact", response_class=HTMLResponse)
@requires_sign_in
def contact(
    request: Request,
    context: Hub,
    case_id: int,
    csrf: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    action: Annotated[str, Form(max_length=10)] = "save",
) -> Response:
    """Opt in to email notifications (stored encrypted) or out (the address is deleted)."""
    try:
        if not csrf_matches(request, csrf):
            raise PortalError(PortalCode.CSRF)
        address = None if action == "remove" else email
        if address is not None and not address.strip():
            raise PortalError(PortalCode.INVALID_EMAIL)
        with context.transaction() as session:
            cases.set_contact(
                session,
                cases.load_case(session, case_id),
                address,
                context.box,
                clock=context.clock,
            )
    except RedressError as exc:
        return status_redirect(request, error=problem(exc).code)
    return status_redirect(request, notice="contact_removed" if address is None else "contact_set")

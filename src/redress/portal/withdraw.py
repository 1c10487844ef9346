"""Withdrawing an item or the whole case (asked first); platforms are told through the feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from redress.core.errors import RedressError
from redress.hub.cases import service as cases
from redress.portal.guard import requires_sign_in
from redress.portal.messages import PortalCode, PortalError, problem
from redress.portal.pages import Hub, PortalRoute, no_store_redirect, render
from redress.portal.sessions import forget
from redress.portal.status import load_status, status_redirect
from redress.web.csrf import matches as csrf_matches

router = APIRouter(include_in_schema=False, route_class=PortalRoute)


@router.get("/status/withdraw", response_class=HTMLResponse)
@requires_sign_in
def confirm_withdraw(
    request: Request, context: Hub, case_id: int, item: str | None = None
) -> Response:
    """Ask before withdrawing an item (or, without `item`, the whole case)."""
    status = load_status(context, case_id)
    position = None
    if item is not None:
        refs = [entry.item for entry in status.items]
        if item not in refs:
            return no_store_redirect(str(request.url_for("status_page")))
        position = refs.index(item) + 1
    return render(request, "withdraw.html", context, item=item, position=position)


@router.post("/status/withdraw", response_class=HTMLResponse)
@requires_sign_in
def withdraw(
    request: Request,
    context: Hub,
    case_id: int,
    csrf: Annotated[str, Form(max_length=100)] = "",
    item: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """Withdraw the item or the case; platforms are told through the feed."""
    try:
        if not csrf_matches(request, csrf):
            raise PortalError(PortalCode.CSRF)
        with context.transaction() as session:
            cases.withdraw(
                session, cases.load_case(session, case_id), item or None, clock=context.clock
            )
    except RedressError as exc:
        return status_redirect(request, error=problem(exc).code)
    if item:
        return status_redirect(request, notice="withdrawn_item")
    # Withdrawing the case ended its sessions (on every device): say so on the sign-in page.
    login = str(request.url_for("status_login"))
    return forget(no_store_redirect(login + "?notice=withdrawn_case"))

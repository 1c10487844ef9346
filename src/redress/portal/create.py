"""Creating a case and adding files to it: choose files, hash them in the browser, review,
accept the statement (first time), send the hashes; the case number and PIN are shown once.

Images and videos are hashed in the browser (static/js); these routes only ever receive hashes.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import OperationalError

from redress.core.errors import RedressError
from redress.hub.bank.schemas import ItemIn
from redress.hub.bank.service import validate_items
from redress.hub.cases import service as cases
from redress.hub.context import HubContext, client_address
from redress.portal.guard import requires_sign_in
from redress.portal.messages import PortalCode, PortalError, error_message, message_for, problem
from redress.portal.pages import Hub, PortalRoute, js_data, language, render, statement
from redress.portal.status import status_redirect
from redress.web.csrf import matches as csrf_matches

router = APIRouter(include_in_schema=False, route_class=PortalRoute)


class Payload(BaseModel):
    """What the browser's hashing sends: items of hashes, never images."""

    model_config = ConfigDict(extra="forbid")

    items: list[ItemIn] = Field(min_length=1)


def _parse_payload(raw: str) -> list[ItemIn]:
    try:
        payload = Payload.model_validate_json(raw)
    except ValidationError:
        raise PortalError(PortalCode.BAD_PAYLOAD) from None
    return payload.items


def _check_csrf(request: Request, submitted: str) -> None:
    if not csrf_matches(request, submitted):
        raise PortalError(PortalCode.CSRF)


def submit_form(
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
        statement=statement(context) if creating else None,
        js_data=js_data(),
        idempotency_key=secrets.token_urlsafe(24) if creating else None,
        error=error,
        mode=mode,
    )


def _refused(exc: RedressError) -> tuple[str, int]:
    """The message and the page status for a refusal (the hub's status, or the portal's)."""
    return message_for(problem(exc)), exc.status


@router.get("/submit", response_class=HTMLResponse)
def submit_page(request: Request, context: Hub) -> HTMLResponse:
    """Choose files, hash them here, review, accept the statement, send the hashes."""
    return submit_form(request, context)


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
    language(request)
    try:
        _check_csrf(request, csrf)
        if agree != "yes":
            raise PortalError(PortalCode.BAD_PAYLOAD)
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
    except RedressError as exc:
        message, status = _refused(exc)
        return submit_form(request, context, error=message, status=status)
    except OperationalError:
        busy = error_message(PortalCode.BUSY)
        return submit_form(request, context, error=busy, status=503)
    status_url = str(request.url_for("status_login"))
    return render(
        request,
        "credentials.html",
        context,
        case_number=created.case_number,
        pin=created.pin,
        items=len(valid),
        js_data=js_data(
            credentials={
                "caseNumber": created.case_number,
                "pin": created.pin,
                "statusUrl": status_url,
            },
        ),
    )


@router.get("/status/add", response_class=HTMLResponse)
@requires_sign_in
def add_page(request: Request, context: Hub, case_id: int) -> Response:
    """Add more files to a signed-in case (hashed here, like the first ones)."""
    return submit_form(request, context, mode="add")


@router.post("/status/add", response_class=HTMLResponse)
@requires_sign_in
def add(
    request: Request,
    context: Hub,
    case_id: int,
    csrf: Annotated[str, Form(max_length=100)] = "",
    payload: Annotated[str, Form(max_length=1_900_000)] = "",
) -> Response:
    """Add the hashed files to the case."""
    language(request)
    try:
        _check_csrf(request, csrf)
        valid = validate_items(_parse_payload(payload), context.settings)
        with context.transaction() as session:
            case = cases.load_case(session, case_id)
            cases.add_items(session, case, valid, settings=context.settings, clock=context.clock)
    except RedressError as exc:
        message, status = _refused(exc)
        return submit_form(request, context, error=message, status=status, mode="add")
    return status_redirect(request, notice="added")

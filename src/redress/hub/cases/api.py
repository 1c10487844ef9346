"""`/v1/statement` and `/v1/cases`: what the survivor portal calls. No API key: the case number
and PIN are the credentials, every lookup is rate-limited, and wrong PINs lock the case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy.orm import Session

from redress.hub.bank.service import validate_items
from redress.hub.cases import service as cases
from redress.hub.cases.models import Case
from redress.hub.cases.schemas import (
    AddItemsIn,
    CaseCreate,
    CaseCreated,
    CaseStatus,
    ContactIn,
    PinIn,
    Statement,
    WithdrawIn,
)
from redress.hub.context import Hub, HubContext, client_address
from redress.web.errors import error_responses

router = APIRouter(prefix="/v1", tags=["survivor cases"])
#: What every call on an existing case can be refused with (number and PIN are the credentials).
OWNED = error_responses(401, 413, 422, 429)
#: Links for the stateful API tests and for readers: what to do with a new case.
_CASE_LINKS = {
    name: {
        "operationId": operation,
        "parameters": {"case_number": "$response.body#/case_number"},
        "requestBody": {"pin": "$response.body#/pin"},
    }
    for name, operation in (
        ("CaseStatus", "case_status_v1_cases__case_number__status_post"),
        ("SetContact", "set_contact_v1_cases__case_number__contact_post"),
        ("Withdraw", "withdraw_v1_cases__case_number__withdraw_post"),
    )
}


@contextmanager
def owned_case(
    context: HubContext, request: Request, case_number: str, pin: str
) -> Iterator[tuple[Session, Case]]:
    """Rate-limit, check the PIN (outside any transaction), then one transaction on the case."""
    client = client_address(request)
    context.rate_limit("status", context.settings.status_rate, client)
    case_id = cases.verify_case(
        context.transaction,
        guard=context.guard,
        case_number=case_number,
        pin=pin,
        client=client,
    )
    with context.transaction() as session:
        yield session, cases.load_case(session, case_id)


@router.get("/statement", response_model=Statement)
def get_statement(context: Hub) -> Statement:
    """The good-faith statement a survivor accepts when creating a case, with its version."""
    return Statement(
        version=context.settings.statement_version, text=context.settings.statement_text
    )


@router.post(
    "/cases",
    response_model=CaseCreated,
    status_code=201,
    responses={
        201: {"description": "The case number and PIN (shown once).", "links": _CASE_LINKS},
        **error_responses(409, 413, 422, 429),
    },
)
def create_case(
    body: CaseCreate,
    request: Request,
    response: Response,
    context: Hub,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> CaseCreated:
    """Create a case from hashes (never images). Returns the case number and PIN, once.

    Send the same `Idempotency-Key` header (or `idempotency_key` field) when retrying: the same
    case and PIN come back within 24 hours, and no second case is created.
    """
    client = client_address(request)
    context.rate_limit("create", context.settings.case_creation_rate, client)
    key = body.idempotency_key or idempotency_key
    items = validate_items(body.items, context.settings)
    with context.transaction() as session:
        created = cases.create_case(
            session,
            settings=context.settings,
            box=context.box,
            statement_version=body.statement_version,
            items=items,
            idempotency_key=key,
            client=client,
            clock=context.clock,
        )
    response.headers["Cache-Control"] = "no-store"
    return CaseCreated(case_number=created.case_number, pin=created.pin)


@router.post("/cases/{case_number}/status", response_model=CaseStatus, responses=OWNED)
def case_status(
    case_number: str, body: PinIn, request: Request, response: Response, context: Hub
) -> CaseStatus:
    """Each item's outcome across platforms (matched, removed, under review)."""
    with owned_case(context, request, case_number, body.pin) as (session, case):
        status = cases.case_status(session, case)
    response.headers["Cache-Control"] = "no-store"
    return status


@router.post(
    "/cases/{case_number}/items",
    response_model=CaseStatus,
    responses={**OWNED, **error_responses(409)},
)
def add_items(case_number: str, body: AddItemsIn, request: Request, context: Hub) -> CaseStatus:
    """Add more images or videos (as hashes) to an existing case."""
    items = validate_items(body.items, context.settings)
    with owned_case(context, request, case_number, body.pin) as (session, case):
        cases.add_items(session, case, items, settings=context.settings, clock=context.clock)
        return cases.case_status(session, case)


@router.post(
    "/cases/{case_number}/withdraw",
    response_model=CaseStatus,
    responses={**OWNED, **error_responses(409)},
)
def withdraw(case_number: str, body: WithdrawIn, request: Request, context: Hub) -> CaseStatus:
    """Withdraw one item (`item`: its reference) or the whole case; platforms are told."""
    with owned_case(context, request, case_number, body.pin) as (session, case):
        cases.withdraw(session, case, body.item, clock=context.clock)
        return cases.case_status(session, case)


@router.post("/cases/{case_number}/contact", response_model=CaseStatus, responses=OWNED)
def set_contact(case_number: str, body: ContactIn, request: Request, context: Hub) -> CaseStatus:
    """Opt in to email notifications (stored encrypted), or send `email: null` to delete it."""
    with owned_case(context, request, case_number, body.pin) as (session, case):
        cases.set_contact(session, case, body.email, context.box, clock=context.clock)
        return cases.case_status(session, case)

"""The one sign-in guard of the case pages: `@requires_sign_in` hands the endpoint the signed-in
case's id, or answers with the sign-in page ("you were signed out", 401) and drops the cookie.

A decorator rather than a dependency on purpose: FastAPI checks the form fields first, exactly
as when each endpoint asked itself, so a malformed form is refused the same way signed in or not.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from redress.hub.context import HubContext
from redress.portal.messages import PortalCode, error_message
from redress.portal.pages import render
from redress.portal.sessions import forget, signed_in_case

Endpoint = Callable[..., Response]


def expired(request: Request, context: HubContext) -> HTMLResponse:
    """The sign-in page saying the sign-in has ended (401), with the session cookie dropped."""
    message = error_message(PortalCode.SIGNED_OUT)
    response = render(request, "status_login.html", context, status=401, error=message)
    forget(response)
    return response


def requires_sign_in(endpoint: Endpoint) -> Endpoint:
    """Guard `endpoint` (which takes `request`, `context` and `case_id`): it runs only for a
    browser with a live sign-in, with that case's id; everyone else gets `expired`."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    signature = inspect.signature(endpoint)
    parameters = [
        parameter.replace(annotation=hints.get(name, parameter.annotation))
        for name, parameter in signature.parameters.items()
        if name != "case_id"
    ]

    @functools.wraps(endpoint)
    def guarded(**values: Any) -> Response:
        request: Request = values["request"]
        context: HubContext = values["context"]
        case_id = signed_in_case(request, context)
        if case_id is None:
            return expired(request, context)
        return endpoint(case_id=case_id, **values)

    # FastAPI reads the parameters (and their resolved types) from the signature it is shown.
    guarded.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=hints.get("return", Response)
    )
    return guarded

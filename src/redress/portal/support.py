"""The pages around the case: the landing page, the helplines by country, the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from redress.portal.helplines import load_helplines
from redress.portal.pages import Hub, PortalRoute, language, no_store_redirect, render, set_cookie
from redress.web import i18n

router = APIRouter(include_in_schema=False, route_class=PortalRoute)


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, context: Hub) -> HTMLResponse:
    """What the service does and does not do, who it is for, and where to start."""
    return render(request, "index.html", context)


@router.get("/support", response_class=HTMLResponse)
def support(request: Request, context: Hub) -> HTMLResponse:
    """Helplines by country, from the operator's file (or the built-in list)."""
    chosen = language(request)
    groups = load_helplines(context.settings.helplines_file).by_country(chosen.code)
    return render(request, "support.html", context, groups=groups)


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, context: Hub, next: str = "/") -> Response:
    """Remember the chosen language (a cookie) and go back to the page."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = no_store_redirect(target)
    chosen = i18n.language(code)
    set_cookie(response, request, context, i18n.COOKIE, chosen.code, max_age=365 * 24 * 3600)
    return response

"""The portal's router, which the hub's application mounts (with `STATIC` at /static)."""

from __future__ import annotations

from fastapi import APIRouter

from redress.portal import create, signin, status, support, withdraw

router = APIRouter(include_in_schema=False)
for _pages in (signin, support, create, status, withdraw):
    router.include_router(_pages.router)

"""The survivor portal: pages in the survivor's language, hashing in the browser; `router`."""

from redress.portal.pages import STATIC
from redress.portal.routes import router

__all__ = ["STATIC", "router"]

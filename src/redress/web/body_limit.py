"""A request body limit for both apps: over the limit, 413 with the JSON error body, whether or
not the request declared its length."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from redress.web.errors import error_body


class BodySizeLimit:
    """Refuse request bodies over the limit with 413, whether or not they declare a length."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLargeError
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLargeError:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        response = JSONResponse(
            error_body(
                "request_too_large",
                f"The request body is over {self.limit:,} bytes; send fewer items at a time.",
            ),
            status_code=413,
        )
        await response({"type": "http"}, _empty_receive, send)


class _BodyTooLargeError(Exception):
    """Raised inside the app's receive() when the body passes the limit."""


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}

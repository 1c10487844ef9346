"""Headers both web apps (hub and agent) add to every response: HSTS when served over HTTPS, and
`Cache-Control: no-store` under the paths where case numbers and PINs travel. Also the one
place that decides whether a request counts as HTTPS, for `Secure` cookies.

How `REDRESS_HTTPS=auto` decides: on when the request arrived over HTTPS, and on whenever the
app is served on an address that is not loopback (so a hub reachable from the network never
hands out cookies a plain-HTTP hop could carry); off only for plain HTTP on 127.0.0.0/8, ::1 or
localhost, which is a developer's machine or a reverse proxy on the same host. Behind such a
proxy the scheme comes from the proxy's `X-Forwarded-Proto`, which uvicorn applies only for
the proxies it trusts (`--forwarded-allow-ips`, default 127.0.0.1) — see `request_scheme`.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HttpsMode = Literal["auto", "on", "off"]
HSTS = "max-age=31536000; includeSubDomains"


def request_scheme(scope: Scope) -> str:
    """The scheme the client used, as the ASGI server reports it.

    This is the hook for proxy trust: uvicorn's proxy-headers middleware has already replaced
    the scheme with `X-Forwarded-Proto` when the connection came from a trusted proxy. A
    project-level list of trusted proxies (`REDRESS_TRUSTED_PROXIES`) should rewrite
    `scope["scheme"]` before this runs, or be consulted here; nothing else reads the scheme.
    """
    return str(scope.get("scheme", "http"))


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) is this machine's loopback."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def https_in_effect(mode: HttpsMode, scope: Scope) -> bool:
    """Whether this request gets `Secure` cookies and HSTS under the setting `mode`."""
    if mode != "auto":
        return mode == "on"
    if request_scheme(scope) in ("https", "wss"):
        return True
    server = scope.get("server")
    if not server:  # a Unix socket: only a proxy talks to it, and the public side is HTTPS
        return True
    return not is_loopback(str(server[0]))


class SecurityHeaders:
    """ASGI middleware: HSTS when HTTPS is in effect; `no-store` under the given path prefixes
    (whatever the route or error handler set, so errors are covered too)."""

    def __init__(self, app: ASGIApp, *, https: HttpsMode, no_store: tuple[str, ...] = ()) -> None:
        self.app = app
        self.https = https
        self.no_store = no_store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = https_in_effect(self.https, scope)
        private = str(scope.get("path", "")).startswith(self.no_store) if self.no_store else False

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if secure:
                    headers["Strict-Transport-Security"] = HSTS
                if private:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)

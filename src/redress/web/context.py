"""Who is calling: the client address that rate limits and PIN budgets count under, read through
a known number of trusted reverse proxies."""

from __future__ import annotations

import ipaddress

from fastapi import Request


def forwarded_client(request: Request, hops: int) -> str:
    """The caller's address, for rate limits and PIN budgets.

    Behind `hops` trusted proxies, each of which appends the address it received the request
    from to X-Forwarded-For, the client is the Nth entry from the right: every entry left of it
    was written by the client and is ignored. With fewer entries than N (a request that did not
    pass through every proxy) or an entry that is not an address, the connection's own address
    is used. IPv6 addresses count by their /64 network, which one subscriber holds.
    """
    peer = request.client.host if request.client else "unknown"
    if hops:
        entries = [
            part.strip()
            for header in request.headers.getlist("x-forwarded-for")
            for part in header.split(",")
        ]
        if len(entries) >= hops and budget_address(entries[-hops]) != "unknown":
            peer = entries[-hops]
    return budget_address(peer)


def budget_address(text: str) -> str:
    """The key an address is counted under: IPv4 as it is, IPv6 by its /64 ("unknown" for
    anything that is not an address)."""
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)

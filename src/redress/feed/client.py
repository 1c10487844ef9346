"""A client that follows a hub's feed (`GET /v1/feed.bin`): asks from a cursor, decodes the
compact blocks as they stream in and hands each to the caller, and says where the feed stands.

It keeps no state of its own beyond the connection: the caller (the agent's sync, later hub
federation or the dataset scanner) keeps the cursor and applies the entries."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType

import httpx

from redress.core.errors import RedressError
from redress.feed.wire import Block, decode_block, iter_frames


class FeedCode(StrEnum):
    """Why a hub's answer could not be followed."""

    HUB_REFUSED = "hub_refused"
    HUB_WENT_BACK = "hub_went_back"


class FeedError(RedressError):
    """A hub's answer that cannot be followed (502: the hub's fault, not the caller's)."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    """Where one answer of the feed left us."""

    cursor: int  # ask from here next time
    head: int  # the hub's latest entry
    long_polled: bool  # the hub held the request: ask again at once


class FeedClient:
    """One hub's feed over one HTTP connection pool (a context manager)."""

    def __init__(
        self, url: str, key: str, *, timeout: httpx.Timeout | None = None, chunk: int = 1 << 20
    ) -> None:
        self._http = httpx.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout or httpx.Timeout(60.0, connect=5.0),
        )
        self._chunk = chunk

    def __enter__(self) -> FeedClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def read(
        self, cursor: int, *, limit: int, wait: float, apply: Callable[[Block], None]
    ) -> FeedPage:
        """Fetch the entries after `cursor` (at most `limit`; with `wait` > 0 the hub may hold
        the request that long when there is nothing new) and `apply` each decoded block in
        order. Raises `FeedError`, `httpx.HTTPError` or the wire format's `ValueError`s."""
        query = {"cursor": str(cursor), "limit": str(limit)}
        if wait:
            query["wait"] = str(wait)
        asked = time.monotonic()  # a duration on this machine, not a moment: no clock needed
        with self._http.stream("GET", "/v1/feed.bin", params=query) as response:
            if response.status_code != 200:
                response.read()
                raise FeedError(
                    502,
                    FeedCode.HUB_REFUSED,
                    f"hub answered {response.status_code}: {response.text[:200]}",
                )
            until = int(response.headers["X-Next-Cursor"])
            head = int(response.headers["X-Feed-Head"])
            for frame in iter_frames(response.iter_raw(self._chunk)):
                apply(decode_block(frame))
        if until < cursor:
            raise FeedError(
                502,
                FeedCode.HUB_WENT_BACK,
                f"hub's feed ends at {head}, before our cursor {cursor}",
            )
        # A hub that held the request (long polling) lets us ask again at once; one that
        # answered straight away with nothing new is asked again after a pause.
        held = bool(wait) and time.monotonic() - asked >= 0.5 * wait
        return FeedPage(until, head, held)

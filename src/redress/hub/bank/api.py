"""`/v1/feed` and `/v1/feed.bin`: the feed platforms follow, with an API key
(`Authorization: Bearer rk_...`) carrying the `feed:read` scope."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from redress.feed.wire import MEDIA_TYPE
from redress.hub.bank.errors import BankCode
from redress.hub.bank.schemas import FeedPage, FeedSignal
from redress.hub.bank.service import read_feed
from redress.hub.bank.wire import feed_head, plan, stream
from redress.hub.context import Hub
from redress.hub.errors import HubError
from redress.hub.participants.api import FeedKey
from redress.hub.participants.schemas import Scope
from redress.hub.participants.service import authenticate
from redress.web.errors import error_responses

router = APIRouter(prefix="/v1", tags=["platforms"], responses=error_responses(401, 403, 422))
#: A cursor is a feed sequence number in decimal (18 digits are far more than a feed reaches,
#: and keep it inside the database's 64-bit integers).
CURSOR_PATTERN = r"^[0-9]{0,18}$"
Cursor = Annotated[
    str,
    Query(
        max_length=32,
        json_schema_extra={"pattern": CURSOR_PATTERN},
        description="`next_cursor` (or `X-Next-Cursor`) from the previous page; empty to start.",
    ),
]


def parse_cursor(cursor: str) -> int:
    """The sequence number inside a cursor ('' or '0' is the start of the feed)."""
    if not re.search(CURSOR_PATTERN, cursor):
        raise HubError(
            400,
            BankCode.BAD_CURSOR,
            "The cursor is not one this hub gave out; start again without it.",
        )
    return int(cursor) if cursor.strip() else 0


@router.get("/feed", response_model=FeedPage, responses=error_responses(400))
def feed(
    context: Hub,
    key: FeedKey,
    cursor: Cursor = "",
    limit: Annotated[int, Query(ge=1, le=2**63 - 1)] = 1000,
) -> FeedPage:
    """The append-only feed after `cursor`: signals added and removed, oldest first.

    Keep `next_cursor` and pass it back; it stays valid for ever (across hub restarts). An entry
    is never skipped or repeated between pages, even while entries are being added.
    """
    after = parse_cursor(cursor)
    with context.transaction() as session:
        authenticate(session, key, Scope.FEED_READ)
        rows, more = read_feed(session, after, min(limit, context.settings.feed_page_max))
        entries = [
            FeedSignal(
                seq=row.seq,
                op="add" if row.op == "add" else "remove",
                reason=row.reason,
                item=row.item_ref,
                type=row.signal.type,
                value=row.signal.value,
                variant=row.variant,
            )
            for row in rows
        ]
    next_cursor = str(entries[-1].seq) if entries else str(after)
    return FeedPage(entries=entries, next_cursor=next_cursor, has_more=more)


@router.get(
    "/feed.bin",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            "description": "zstd-compressed blocks",
            "headers": {
                "X-Next-Cursor": {
                    "description": "Pass back as `cursor`.",
                    "schema": {"type": "string"},
                },
                "X-Feed-Head": {"description": "The newest entry.", "schema": {"type": "string"}},
            },
        },
        **error_responses(400),
    },
)
async def feed_binary(
    request: Request,
    context: Hub,
    key: FeedKey,
    cursor: Cursor = "",
    limit: Annotated[int, Query(ge=1, le=10_000_000)] = 1_000_000,
    wait: Annotated[float, Query(ge=0, le=30)] = 0,
) -> StreamingResponse:
    """The same feed as `/v1/feed`, in the compact streamed format of docs/feed-format.md.

    Covers sequence numbers after `cursor` up to the `X-Next-Cursor` response header (pass it
    back as `cursor`); `X-Feed-Head` is the newest entry, so `X-Next-Cursor == X-Feed-Head`
    means caught up. With `wait` (seconds, up to 30), a caught-up caller is answered as soon
    as something new is written (long polling) instead of at once. Whole blocks are served
    from memory once written.
    """
    after = parse_cursor(cursor)

    def authorised_head() -> int:
        with context.transaction() as session:
            authenticate(session, key, Scope.FEED_READ)
            return feed_head(session)

    def head_now() -> int:
        with context.sessions() as session:
            return feed_head(session)

    head = await run_in_threadpool(authorised_head)
    deadline = time.monotonic() + wait
    while head <= after and time.monotonic() < deadline:
        if await request.is_disconnected():
            break
        await asyncio.sleep(0.05)
        head = await run_in_threadpool(head_now)
    until = max(after, plan(after, head, limit))
    return StreamingResponse(
        stream(context.sessions, context.feed_cache, after, until, head),
        media_type=MEDIA_TYPE,
        headers={"X-Next-Cursor": str(until), "X-Feed-Head": str(head)},
    )

"""Tables that both the hub's and the agent's databases hold."""

from __future__ import annotations

from sqlalchemy import Column, Double, Integer, MetaData, String, Table

RATE_LIMIT_COUNTERS = "rate_limit_counters"


def counters_table(metadata: MetaData, name: str = RATE_LIMIT_COUNTERS) -> Table:
    """Rate-limit counters (`redress.web.ratelimit.SqlStorage`), declared on `metadata` as
    `name`: one row per limited key with its count and the end of its window (Unix seconds)."""
    return Table(
        name,
        metadata,
        Column("key", String(255), primary_key=True),
        Column("count", Integer, nullable=False),
        Column("expires_at", Double, nullable=False, index=True),
    )

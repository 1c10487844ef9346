"""The base of the agent's tables, its append-only event record and its rate-limit counters.
Each domain declares its own tables (`sync/models.py`, `review/models.py`, ...) on `AgentBase`;
`redress.agent.migrations` holds their schema history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from redress.db import NAMING
from redress.db.tables import counters_table
from redress.db.types import UtcDateTime

#: Row ids of the agent's tables: 64-bit on PostgreSQL, SQLite's rowid on SQLite.
EVENT_ID = BigInteger().with_variant(Integer, "sqlite")


class AgentBase(DeclarativeBase):
    """Base of the agent's tables (all named `agent_*`, so a hub and an agent can share one
    database)."""

    metadata = MetaData(naming_convention=NAMING)


class AgentEvent(AgentBase):
    """An append-only record of one state change of the agent: what happened, to what, when.
    Subjects are internal ids (`review:7`, `hub:national`); details hold counts and types, never
    a hash, a file or a secret, so the record can feed a transparency log."""

    __tablename__ = "agent_events"

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(120))
    details: Mapped[str] = mapped_column(Text, default="{}")


RATE_LIMIT_COUNTERS = counters_table(AgentBase.metadata, "agent_rate_limit_counters")
"""The moderator sign-in limit's counters, shared by every agent process on this database."""

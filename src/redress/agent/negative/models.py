"""The negative bank's table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from redress.agent.models import AgentBase
from redress.db.types import UtcDateTime


class NegativeSignal(AgentBase):
    """A hash the platform knows to be benign: matches of content that matches it are dropped."""

    __tablename__ = "agent_negative_bank"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    signal_value: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

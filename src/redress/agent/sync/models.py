"""How far the agent's saved bank of each hub goes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from redress.agent.models import AgentBase
from redress.db.types import UtcDateTime


class HubState(AgentBase):
    """How far the agent's saved bank of one hub goes."""

    __tablename__ = "agent_hub_state"

    hub: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    snapshot: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

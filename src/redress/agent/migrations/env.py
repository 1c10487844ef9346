"""Alembic environment of the agent's chain (version table `agent_alembic_version`; a hub's
tables may share the database)."""

from __future__ import annotations

from redress.agent.migrations import AGENT
from redress.agent.models import AgentBase
from redress.db.migrate import run_environment

run_environment(AgentBase.metadata, AGENT.version_table)

"""The agent's own chain of schema migrations (version table `agent_alembic_version`)."""

from __future__ import annotations

from pathlib import Path

from redress.agent.models import AgentBase
from redress.agent.negative import models as _negative  # noqa: F401  (registers the tables)
from redress.agent.outbox import models as _outbox  # noqa: F401
from redress.agent.quarantine import models as _quarantine  # noqa: F401
from redress.agent.review import models as _review  # noqa: F401
from redress.agent.sync import models as _sync  # noqa: F401
from redress.db.migrate import Chain

#: Where the agent's migrations are and which table records how far a database has come.
AGENT = Chain(
    Path(__file__).parent,
    version_table="agent_alembic_version",
    upgrade_command="redress agent db upgrade",
    metadata=AgentBase.metadata,
)

"""The hub's chain of schema migrations (version table `alembic_version`, as it has always been)."""

from __future__ import annotations

from pathlib import Path

from redress.db import Base
from redress.db.migrate import Chain
from redress.hub import models as _models  # noqa: F401  (registers every hub table on Base)

#: Where the hub's migrations are and which table records how far a database has come.
HUB = Chain(Path(__file__).parent, metadata=Base.metadata)

"""Alembic environment of the hub's chain (version table `alembic_version`)."""

from __future__ import annotations

from redress.db import Base
from redress.db.migrate import run_environment
from redress.hub import models  # noqa: F401  (registers the tables on Base.metadata)

run_environment(Base.metadata, "alembic_version")

"""What every hub domain's tables share: the one declarative base (so Alembic sees every table),
the id column type, the UTC datetime column type, and status columns checked by the database."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Integer

from redress.db import Base
from redress.db.tables import counters_table
from redress.db.types import UtcDateTime

__all__ = ["ID", "RATE_LIMIT_COUNTERS", "Base", "UtcDateTime", "allowed", "status_check"]

ID = BigInteger().with_variant(Integer(), "sqlite")
"""Row ids: 64-bit on PostgreSQL, SQLite's rowid alias there."""

RATE_LIMIT_COUNTERS = counters_table(Base.metadata)
"""Rate-limit counters shared by every worker (`redress.web.ratelimit.SqlStorage`)."""


def allowed(column: str, values: type[StrEnum]) -> str:
    """The SQL condition that `column` holds one of the enum's values."""
    listed = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({listed})"


def status_check(column: str, values: type[StrEnum]) -> CheckConstraint:
    """A CHECK constraint (named ``ck_<table>_<column>``) refusing any value not in the enum."""
    return CheckConstraint(allowed(column, values), name=column)

"""statuses checked by the database: a CHECK constraint on every status column

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 21:00:00

The values are written out here (not imported from the models' enums) so that this migration
keeps meaning what it meant when the enums change; a later change adds its own migration.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column, allowed values): parents before the tables that refer to them.
CHECKS = (
    ("participants", "status", ("active", "revoked")),
    ("cases", "status", ("active", "withdrawn")),
    ("signals", "status", ("unpublished", "active", "withdrawn", "quarantined")),
    ("items", "status", ("active", "held", "withdrawn", "rejected")),
    ("feedback", "value", ("PendingReview", "Blocked", "NotBlocked")),
    ("holds", "status", ("pending", "released", "rejected")),
)


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _sqlite_foreign_keys(on: bool) -> None:
    """Switch SQLite's foreign-key enforcement (possible only between transactions).

    SQLite adds a CHECK by copying the table (batch mode): the old copy is dropped while other
    tables' rows refer to it, which enforcement would refuse. So, as SQLite's documented
    procedure for such changes says, enforcement is off while the tables are copied: the
    migrations so far are committed (the database is then at 0006, a consistent state), the
    copies run in a transaction of their own and are checked with `foreign_key_check` before
    it commits, and enforcement is switched back on for the rest of the upgrade.
    """
    bind = op.get_bind()
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


def _change(add: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(on=False)
    for table, column, values in CHECKS if add else tuple(reversed(CHECKS)):
        name = op.f(f"ck_{table}_{column}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            if add:
                batch_op.create_check_constraint(name, _condition(column, values))
            else:
                batch_op.drop_constraint(name, type_="check")
    if sqlite:
        broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"copying the tables broke references: {broken[:5]}")
        _sqlite_foreign_keys(on=True)


def upgrade() -> None:
    _change(add=True)


def downgrade() -> None:
    _change(add=False)

"""Rate limits that hold across worker processes and restarts.

The `limits` library counts; this module gives it a storage every worker shares:

- Redis when ``REDRESS_RATE_LIMIT_STORAGE=redis://host:port/db`` (the library's own storage), or
- the hub's (or agent's) own database otherwise: `SqlStorage`, a `limits.storage.Storage` over
  SQLAlchemy, since `limits` has none. It supports the fixed-window strategy: one row per key
  (the limit and the client), and each hit is one atomic ``INSERT … ON CONFLICT DO UPDATE …
  RETURNING`` on SQLite and PostgreSQL, so concurrent hits from any number of processes are all
  counted and at most the limit pass in a window. (A fixed window can let up to twice the limit
  through across a window boundary; that is the price of one atomic statement per hit, and
  still bounds every client's rate.)

Time comes from a `Clock`, so tests move it instead of sleeping.
"""

from __future__ import annotations

import itertools

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Engine, Table, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from redress.core.clock import Clock, SystemClock, timestamp

_PURGE_EVERY = 256  # hits per process between deletions of expired rows


class SqlStorage(Storage):
    """Fixed-window counters in a SQL table, shared by every process on the database."""

    STORAGE_SCHEME = None  # built directly, not from a URI

    def __init__(self, engine: Engine, table: Table, clock: Clock | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.table = table
        self.clock: Clock = clock or SystemClock()
        self._hits = itertools.count(1)
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"no rate-limit storage for the {dialect} database")
        self._insert = sqlite.insert if dialect == "sqlite" else postgresql.insert

    @property
    def base_exceptions(self) -> type[Exception]:
        """Database errors (what `limits` may wrap in its StorageError)."""
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to `key`'s count (a new window of `expiry` seconds if the last one
        ended) in one atomic statement; the new count."""
        now = timestamp(self.clock)
        t = self.table
        ended = t.c.expires_at <= now
        upsert = (
            self._insert(t)
            .values(key=key, count=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[t.c.key],
                set_={
                    "count": case((ended, amount), else_=t.c.count + amount),
                    "expires_at": case((ended, now + expiry), else_=t.c.expires_at),
                },
            )
            .returning(t.c.count)
        )
        with self.engine.begin() as connection:
            count = connection.execute(upsert).scalar_one()
            if next(self._hits) % _PURGE_EVERY == 0:
                connection.execute(delete(t).where(t.c.expires_at <= now))
        return int(count)

    def get(self, key: str) -> int:
        """`key`'s count in its current window (0 when none)."""
        t = self.table
        query = select(t.c.count).where(t.c.key == key, t.c.expires_at > timestamp(self.clock))
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def get_expiry(self, key: str) -> float:
        """When `key`'s window ends (Unix seconds; now when it has none)."""
        now = timestamp(self.clock)
        t = self.table
        query = select(t.c.expires_at).where(t.c.key == key, t.c.expires_at > now)
        with self.engine.connect() as connection:
            return float(connection.execute(query).scalar() or now)

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter; how many there were."""
        with self.engine.begin() as connection:
            number = connection.execute(select(func.count()).select_from(self.table)).scalar()
            connection.execute(delete(self.table))
        return int(number or 0)

    def clear(self, key: str) -> None:
        """Forget `key`'s counter."""
        with self.engine.begin() as connection:
            connection.execute(delete(self.table).where(self.table.c.key == key))


class RateLimiter:
    """Fixed-window limits over a shared storage: ``hit`` counts and answers whether the caller
    is still within the limit; ``retry_after`` says how long until the window ends."""

    def __init__(self, storage: Storage, clock: Clock | None = None) -> None:
        self.storage = storage
        self.clock: Clock = clock or SystemClock()
        self._strategy = FixedWindowRateLimiter(storage)

    def hit(self, rate: str | RateLimitItem, *identifiers: str) -> bool:
        """Count one request; False when it is over the limit (it is still counted)."""
        item = parse(rate) if isinstance(rate, str) else rate
        return self._strategy.hit(item, *identifiers)

    def test(self, rate: str | RateLimitItem, *identifiers: str) -> bool:
        """Whether one more request would be within the limit (nothing is counted)."""
        item = parse(rate) if isinstance(rate, str) else rate
        return self._strategy.test(item, *identifiers)

    def retry_after(self, rate: str | RateLimitItem, *identifiers: str) -> int:
        """Whole seconds until the current window ends (at least 1)."""
        item = parse(rate) if isinstance(rate, str) else rate
        reset, _remaining = self._strategy.get_window_stats(item, *identifiers)
        return max(1, int(reset - timestamp(self.clock) + 0.999))


def make_storage(uri: str | None, engine: Engine, table: Table, clock: Clock | None) -> Storage:
    """Redis (or another `limits` storage) when `uri` names one, else the database's table."""
    if uri:
        if not uri.startswith(("redis://", "rediss://", "redis+unix://")):
            raise ValueError(
                f"REDRESS_RATE_LIMIT_STORAGE must be a redis:// URL (or empty for the database), "
                f"not {uri.split('://')[0]}://…"
            )
        storage = storage_from_string(uri)
        assert isinstance(storage, Storage)  # a synchronous scheme was checked above
        return storage
    return SqlStorage(engine, table, clock)

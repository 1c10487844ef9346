"""PIN lock-outs that hold across workers and restarts, and that nobody can turn against a
survivor for long.

Every PIN attempt is *counted before it is checked*: a reservation, made atomically in a shared
store, charges the attempt as a failure and says whether it may be checked at all; only then does
the argon2id check run, and a right PIN afterwards clears the count. So a burst of parallel
guesses, from one worker or many, is checked at most as often as the budget allows; the rest are
refused without being checked.

Three budgets, each a **back-off** rather than a lock: a few free tries, then waits that double
from ``PIN_BACKOFF_BASE_SECONDS`` up to a stated cap, and failures that are forgiven one by one
as time passes (one per cap), so nothing is ever locked for hours.

1. **Per case and address** (``PIN_FREE_TRIES`` = 5 free, then 30 s, 60 s, … capped at
   ``PIN_BACKOFF_MAX_SECONDS`` = 900 s). What one address can do to one case number.
2. **Per case, all addresses together** (``PIN_CASE_FREE_TRIES`` = 10 free, then waits capped at
   ``PIN_CASE_MAX_WAIT_SECONDS`` = 300 s). What a distributed attacker can do to one case. One
   address alone cannot push it into back-off: its own budget lets it through at most 4 times an
   hour, less than this budget forgives (12 an hour). Not charged for an address that has opened
   this case with its right PIN before (within ``PIN_KNOWN_ADDRESS_DAYS``), so a survivor
   returning from their usual address is not made to wait by someone else's guesses.
3. **Per address, over case numbers new to it** (``CLIENT_PIN_FAILURES_PER_HOUR`` = 30 free,
   forgiven at that rate). An address that tried wrong PINs on many case numbers is slowed on
   *new* case numbers only: the case numbers it already tried, or opened before, stay under
   budgets 1 and 2. So a noisy address (a proxy, a shelter's network) does not lock the others
   behind it out of their own cases.

A refused attempt is not counted (so guessing cannot extend a wait), is not checked, and is
answered ``locked`` with the wait. Unknown and malformed case numbers are counted like real ones
(every distinct typed number has its own key) and do the same argon2id work, so answers reveal
nothing about which cases exist.

Attacker's best rate against one case: from one address, 5 guesses and then one every 15 minutes (4
an hour); from any number of addresses, 10 and then one every 5 minutes (12 an hour, 288 a day):
exhausting the 10^8 eight-digit PINs takes about 950 years (half that on average to hit the right
one). An attacker who also shares an address the survivor opened the case from adds that address's 4
an hour (16 an hour: about 710 years). What an attacker *can* do is keep one case number slowed
while they keep guessing: someone signing in from a new address may have to wait up to 5 minutes per
try, from an address that opened the case before, not at all (unless the attacker shares that
address; then up to 15 minutes). ``redress_pin_attempts_total{outcome}`` is the hub-wide
circuit-breaker signal: alert when the rate of ``wrong`` or ``refused_*`` outcomes jumps.

Counts live in the hub's database (one short transaction per attempt that row-locks its counters
with an ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on PostgreSQL and SQLite, where
``BEGIN IMMEDIATE`` also serialises writers), or in Redis with
``REDRESS_RATE_LIMIT_STORAGE=redis://…`` (``WATCH``/``MULTI``).
Keys are digests; no case number or address is stored in the clear.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from prometheus_client import Counter
from sqlalchemy import Engine, Table, delete, update
from sqlalchemy.dialects import postgresql, sqlite

from redress.config import Settings
from redress.core.clock import Clock, SystemClock, timestamp
from redress.hub.cases.credentials import digest_key
from redress.hub.cases.errors import locked
from redress.hub.errors import HubError
from redress.hub.ports import Reservation

PIN_ATTEMPTS = Counter(
    "redress_pin_attempts_total",
    "PIN attempts: right, wrong, or refused (by the budget that refused them)",
    ["outcome"],
)
_PURGE_EVERY = 256  # reservations per process between deletions of expired rows


@dataclass(frozen=True, slots=True)
class Backoff:
    """A budget: `free` tries with no wait, then waits from `base` doubling up to `cap` seconds;
    one failure is forgiven every `drain` seconds."""

    free: int
    base: float
    cap: float
    drain: float

    def wait(self, level: float) -> float:
        """The wait after an attempt that brought the failure level to `level`."""
        if level < self.free:
            return 0.0
        steps = min(int(level - self.free), 60)
        return min(self.cap, self.base * 2.0**steps)

    def forgiven(self, state: State, now: float) -> tuple[float, float]:
        """The failure level left at `now`, whole failures forgiven one per `drain` seconds,
        and the moment forgiveness runs from after that."""
        if state.level <= 0:
            return 0.0, now
        whole = math.floor(max(0.0, now - state.since) / self.drain)
        level = state.level - whole
        if level <= 0:
            return 0.0, now
        return level, state.since + whole * self.drain

    def charge(self, state: State, now: float) -> State:
        """The state after one more (presumed) failure at `now`."""
        level, since = self.forgiven(state, now)
        level += 1
        next_at = now + self.wait(level)
        expires_at = max(next_at, since + level * self.drain, state.good_until)
        return State(level, next_at, since, state.good_until, expires_at)

    def cleared(self, state: State, now: float, good_until: float = 0.0) -> State:
        """The state after a right PIN."""
        good = max(good_until, state.good_until)
        return State(0.0, 0.0, now, good, max(now, good))


@dataclass(frozen=True, slots=True)
class State:
    """One budget's counter: failure level, when the next try may be checked, since when its
    failures are being forgiven, until when its address is known to the case, and when the row
    stops meaning anything."""

    level: float = 0.0
    next_at: float = 0.0
    since: float = 0.0
    good_until: float = 0.0
    expires_at: float = 0.0


Decide = Callable[[Mapping[str, State]], Mapping[str, State]]


class BackoffStore(Protocol):
    """Where the counters live; `update` is atomic over its keys."""

    def update(self, keys: Sequence[str], decide: Decide, now: float) -> None:
        """Read `keys` (missing ones as a blank `State`), call `decide`, and write what it
        returns, all as one atomic step; if `decide` raises, nothing is written. `now` is for
        housekeeping (rows that expired before it may go)."""
        ...


class SqlBackoffStore:
    """Counters in the hub's `pin_attempts` table."""

    def __init__(self, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.table = table
        self._insert = sqlite.insert if engine.dialect.name == "sqlite" else postgresql.insert
        self._calls = itertools.count(1)

    def update(self, keys: Sequence[str], decide: Decide, now: float) -> None:
        """One transaction: lock the rows (creating missing ones) in key order, decide, write.

        The lock is a no-op ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: one statement that
        creates or row-locks every key in order (so two attempts never deadlock) and returns
        the rows as they are now."""
        t = self.table
        ordered = sorted(set(keys))
        blank = {"level": 0.0, "next_at": 0.0, "since": 0.0, "good_until": 0.0, "expires_at": 0.0}
        lock = (
            self._insert(t)
            .values([{"key": key, **blank} for key in ordered])
            .on_conflict_do_update(index_elements=[t.c.key], set_={"level": t.c.level})
            .returning(t)
        )
        with self.engine.begin() as connection:
            states = {
                row.key: State(row.level, row.next_at, row.since, row.good_until, row.expires_at)
                for row in connection.execute(lock)
            }
            changes = decide(states)
            for key, state in changes.items():
                connection.execute(
                    update(t)
                    .where(t.c.key == key)
                    .values(
                        level=state.level,
                        next_at=state.next_at,
                        since=state.since,
                        good_until=state.good_until,
                        expires_at=state.expires_at,
                    )
                )
        if next(self._calls) % _PURGE_EVERY == 0:
            # Separately, so the deletion never waits on rows other attempts hold locked.
            with self.engine.begin() as connection:
                connection.execute(delete(t).where(t.c.expires_at < now - 60))


class RedisBackoffStore:
    """Counters in Redis hashes (``WATCH`` the keys, read, decide, ``MULTI``/``EXEC``; retried
    when another client changed a key in between)."""

    def __init__(self, client: Any, prefix: str = "redress:pin:") -> None:
        self.client = client
        self.prefix = prefix

    def update(self, keys: Sequence[str], decide: Decide, now: float) -> None:
        """Atomic over `keys` by optimistic locking."""
        import redis

        ordered = sorted(set(keys))
        names = [self.prefix + key for key in ordered]
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(*names)
                    states = {
                        key: _state_of(pipe.hgetall(name))
                        for key, name in zip(ordered, names, strict=True)
                    }
                    changes = decide(states)
                    pipe.multi()
                    for key, state in changes.items():
                        name = self.prefix + key
                        pipe.hset(name, mapping=_fields_of(state))
                        # Relative to the guard's clock: Redis expires keys by its own.
                        pipe.expire(name, max(60, math.ceil(state.expires_at - now) + 60))
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue


def _state_of(fields: Mapping[bytes, bytes]) -> State:
    values = {k.decode(): float(v) for k, v in fields.items()}
    return State(**{name: values.get(name, 0.0) for name in State.__slots__})


def _fields_of(state: State) -> dict[str, str]:
    return {name: repr(getattr(state, name)) for name in State.__slots__}


@dataclass(frozen=True, slots=True)
class Budgets:
    """The three budgets (see the module's documentation)."""

    pair: Backoff
    case: Backoff
    address: Backoff
    known_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Budgets:
        """The budgets `settings` configure."""
        base = float(settings.pin_backoff_base_seconds)
        cap = float(settings.pin_backoff_max_seconds)
        case_cap = float(settings.pin_case_max_wait_seconds)
        per_hour = settings.client_pin_failures_per_hour
        return cls(
            pair=Backoff(settings.pin_free_tries, min(base, cap), cap, cap),
            case=Backoff(settings.pin_case_free_tries, min(base, case_cap), case_cap, case_cap),
            address=Backoff(per_hour, min(base, cap), cap, 3600.0 / per_hour),
            known_seconds=settings.pin_known_address_days * 86400.0,
        )


class PinGuard:
    """Reserves PIN attempts against the budgets and clears them after a right PIN (the hub's
    `PinBudget`)."""

    def __init__(self, store: BackoffStore, budgets: Budgets, clock: Clock | None = None) -> None:
        self.store = store
        self.budgets = budgets
        self.clock: Clock = clock or SystemClock()

    @staticmethod
    def keys(number: str, address: str) -> tuple[str, str, str]:
        """The counter keys (digests) for a typed case number and a client address."""
        return (
            digest_key("pair", f"{number}\n{address}"),
            digest_key("case", number),
            digest_key("client", address),
        )

    def reserve(self, number: str, address: str) -> Reservation:
        """Count an attempt on `number` from `address` as a failure, before it is checked;
        raises `locked` (nothing counted) when a budget is waiting."""
        pair_key, case_key, client_key = self.keys(number, address)
        budgets = self.budgets
        now = timestamp(self.clock)
        refused: list[str] = []

        def decide(states: Mapping[str, State]) -> Mapping[str, State]:
            pair = states[pair_key]
            known = pair.good_until > now
            tried = known or pair.expires_at > now
            charged = [("pair", pair_key, budgets.pair)]
            if not known:
                charged.append(("case", case_key, budgets.case))
            if not tried:
                charged.append(("address", client_key, budgets.address))
            waits = [
                (states[key].next_at - now, scope)
                for scope, key, _budget in charged
                if states[key].next_at > now
            ]
            if waits:
                wait, scope = max(waits)
                refused[:] = [scope]
                raise locked(max(1, math.ceil(wait)))
            charged_address[:] = [not tried]
            return {key: budget.charge(states[key], now) for _scope, key, budget in charged}

        charged_address: list[bool] = []
        try:
            self.store.update((pair_key, case_key, client_key), decide, now)
        except HubError:
            PIN_ATTEMPTS.labels(f"refused_{refused[0] if refused else 'pair'}").inc()
            raise
        return Reservation(number, address, charged_address[0])

    def succeeded(self, reservation: Reservation) -> None:
        """A right PIN: clear the case's counts, remember the address as known to the case, and
        give back what the attempt cost the address (it was not a guess)."""
        pair_key, case_key, client_key = self.keys(reservation.number, reservation.address)
        now = timestamp(self.clock)
        good_until = now + self.budgets.known_seconds
        budgets = self.budgets

        def decide(states: Mapping[str, State]) -> Mapping[str, State]:
            changes = {
                pair_key: budgets.pair.cleared(states[pair_key], now, good_until),
                case_key: budgets.case.cleared(states[case_key], now),
            }
            if reservation.charged_address:
                state = states[client_key]
                changes[client_key] = replace(state, level=max(0.0, state.level - 1))
            return changes

        self.store.update((pair_key, case_key, client_key), decide, now)
        PIN_ATTEMPTS.labels("right").inc()

    def failed(self) -> None:
        """A wrong PIN (already counted by `reserve`): only the metric."""
        PIN_ATTEMPTS.labels("wrong").inc()

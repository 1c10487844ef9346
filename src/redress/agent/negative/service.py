"""The negative bank: benign hashes kept in the agent's database and in memory; content that
matches one of them is never reported."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.agent.errors import AgentError
from redress.agent.events import EventKind, record_event
from redress.agent.negative.models import NegativeSignal
from redress.core.clock import Clock
from redress.hashing.files import SignalRecord
from redress.hashing.signal_types import SIGNAL_TYPES, IndexKind
from redress.matching import MultiIndex

Transaction = Callable[[], AbstractContextManager[Session]]
#: The signal types the negative bank holds: every type but video (a negative entry is one
#: benign picture or file).
NEGATIVE_TYPES = tuple(
    name for name, kind in SIGNAL_TYPES.items() if kind.index_kind is not IndexKind.VIDEO
)


class NegativeCode(StrEnum):
    """Why a change to the negative bank is refused."""

    UNSUPPORTED_TYPE = "unsupported_type"
    NO_SUCH_ENTRY = "no_such_entry"


def _unsupported() -> AgentError:
    return AgentError(
        422, NegativeCode.UNSUPPORTED_TYPE, "The negative bank holds pdq, md5 and sha256."
    )


class NegativeBank:
    """The negative bank's rows and their in-memory indexes (rebuilt from the rows)."""

    def __init__(self, *, transaction: Transaction, clock: Clock) -> None:
        self.transaction = transaction
        self.clock = clock
        self._lock = threading.Lock()
        self.index = MultiIndex()

    def load(self) -> None:
        """Index every stored entry."""
        with self.transaction() as session:
            rows = list(session.scalars(select(NegativeSignal)))
        for row in rows:
            self._index(row.signal_type, row.signal_value)

    def _index(self, kind: str, value: str) -> None:
        if kind not in NEGATIVE_TYPES:
            raise _unsupported()
        with self._lock:
            self.index.add(kind, [value])

    def matches(self, signals: Sequence[SignalRecord]) -> bool:
        """Whether any of `signals` is in the negative bank."""
        by_type: dict[str, list[str]] = {}
        for signal in signals:
            if signal.type in NEGATIVE_TYPES:
                by_type.setdefault(signal.type, []).append(signal.value)
        with self._lock:
            return any(self.index.query_group(kind, values) for kind, values in by_type.items())

    def entries(self) -> list[NegativeSignal]:
        """Everything in the negative bank, oldest first."""
        with self.transaction() as session:
            return list(session.scalars(select(NegativeSignal).order_by(NegativeSignal.id)))

    def add(self, signals: Sequence[SignalRecord], note: str | None) -> int:
        """Add benign hashes; content matching one of them is never reported."""
        if any(signal.type not in NEGATIVE_TYPES for signal in signals):
            raise _unsupported()
        with self.transaction() as session:
            added = [
                NegativeSignal(
                    signal_type=signal.type,
                    signal_value=signal.value,
                    note=note,
                    created_at=self.clock.now(),
                )
                for signal in signals
            ]
            session.add_all(added)
            session.flush()
            for entry in added:
                record_event(
                    session,
                    clock=self.clock,
                    kind=EventKind.NEGATIVE_ADDED,
                    subject=f"negative:{entry.id}",
                    type=entry.signal_type,
                )
        for signal in signals:
            self._index(signal.type, signal.value)
        return len(signals)

    def remove(self, entry_id: int) -> None:
        """Take one hash out of the negative bank (its matches are reported again)."""
        with self.transaction() as session:
            entry = session.get(NegativeSignal, entry_id)
            if entry is None:
                raise AgentError(
                    404, NegativeCode.NO_SUCH_ENTRY, f"The negative bank has no entry {entry_id}."
                )
            session.delete(entry)
            record_event(
                session,
                clock=self.clock,
                kind=EventKind.NEGATIVE_REMOVED,
                subject=f"negative:{entry_id}",
                type=entry.signal_type,
            )
        with self._lock:
            self.index = MultiIndex()
        self.load()

"""What the hub's shared context holds of its domains, as protocols: the context (and every
router that reads it) depends on these, and each domain implements them, so no domain's router
depends on another domain through the context. `hub.app` plugs the implementations in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from redress.core.clock import Clock


@dataclass(frozen=True, slots=True)
class Reservation:
    """A PIN attempt counted before it was checked, to hand back if the PIN was right."""

    number: str
    address: str
    charged_address: bool


class PinBudget(Protocol):
    """Counts PIN attempts before they are checked (`redress.hub.cases.lockout.PinGuard`)."""

    def reserve(self, number: str, address: str) -> Reservation:
        """Count an attempt; raises `locked` when a budget is waiting."""
        ...

    def succeeded(self, reservation: Reservation) -> None:
        """A right PIN: clear the counts."""
        ...

    def failed(self) -> None:
        """A wrong PIN (already counted)."""
        ...


class BlockCache(Protocol):
    """Encoded feed blocks by number (`redress.hub.bank.wire.FeedBlockCache`)."""

    def get(self, number: int) -> bytes | None:
        """The block's frame, if kept."""
        ...

    def put(self, number: int, frame: bytes) -> None:
        """Keep the block's frame."""
        ...


class DisputeReview(Protocol):
    """After a platform's verdict on a signal: quarantine it if enough platforms dispute it
    (`redress.hub.disputes.service.review`); whether it became quarantined."""

    def __call__(self, session: Session, *, signal_id: int, threshold: int, clock: Clock) -> bool:
        """Review the signal's disputes."""
        ...


class Gauges(Protocol):
    """Sets gauges that are read from the database, before /metrics answers."""

    def __call__(self, session: Session) -> None:
        """Refresh them."""
        ...

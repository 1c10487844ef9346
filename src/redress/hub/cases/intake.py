"""Flood safeguards: abnormal case creation is held back from the feed for staff review.

Three signs, each a setting (`REDRESS_FLOOD_*`, 0 turns one off): one request adding more
signals than `flood_signals_per_request` (size); one client address creating more than
`flood_cases_per_source` cases within `flood_source_window_hours` (source); the whole hub
taking more than `flood_cases_per_hour` cases or `flood_signals_per_hour` signals in the last
hour (volume). A held request is stored normally (the survivor gets a case number and PIN; the
status says the item is being checked), but its new items stay `held` until staff decide
(`redress.hub.bank.holds`).

Only a keyed digest of the client address is stored (HMAC with a key derived from the hub's
secret key), and only for the source window.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from redress.config import Settings
from redress.core.clock import Clock
from redress.hub.cases.models import Intake
from redress.hub.secrets_box import SecretBox

_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Arrival:
    """What one request adds: a new case (1) or items for an existing one (0), its signals,
    and the keyed digest of the client address (None when unknown)."""

    cases: int
    signals: int
    source: str | None


def source_digest(box: SecretBox, client: str) -> str:
    """A keyed, non-reversible digest of a client address: equal for equal addresses."""
    key = box.derive("flood-source")
    return hmac.new(key, client.encode(), hashlib.sha256).hexdigest()


def assess(session: Session, *, settings: Settings, arrival: Arrival, clock: Clock) -> str | None:
    """Record the arrival and say why it must be held (`size`, `source`, `volume`), or None."""
    moment = clock.now()
    window = timedelta(hours=settings.flood_source_window_hours)
    session.execute(delete(Intake).where(Intake.at < moment - max(window, _HOUR)))
    reason = None
    limit = settings.flood_signals_per_request
    if limit and arrival.signals > limit:
        reason = "size"
    limit = settings.flood_cases_per_source
    if reason is None and limit and arrival.cases and arrival.source is not None:
        earlier = session.scalar(
            select(func.coalesce(func.sum(Intake.cases), 0)).where(
                Intake.source == arrival.source, Intake.at >= moment - window
            )
        )
        if int(earlier or 0) + arrival.cases > limit:
            reason = "source"
    if reason is None and (settings.flood_cases_per_hour or settings.flood_signals_per_hour):
        cases, signals = session.execute(
            select(
                func.coalesce(func.sum(Intake.cases), 0), func.coalesce(func.sum(Intake.signals), 0)
            ).where(Intake.at >= moment - _HOUR)
        ).one()
        over_cases = settings.flood_cases_per_hour and (
            int(cases) + arrival.cases > settings.flood_cases_per_hour
        )
        over_signals = settings.flood_signals_per_hour and (
            int(signals) + arrival.signals > settings.flood_signals_per_hour
        )
        if over_cases or over_signals:
            reason = "volume"
    session.add(
        Intake(at=moment, source=arrival.source, cases=arrival.cases, signals=arrival.signals)
    )
    return reason

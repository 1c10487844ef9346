"""Every hub table, imported in one place: what Alembic's environment loads so that
autogenerate sees the whole schema. Domains import their own `models` (and never each
other's tables); this module is for migrations, tests and tools."""

from __future__ import annotations

from redress.hub.bank.models import FeedEntry, Hold, HoldItem, Item, ItemSignal, Signal
from redress.hub.cases.models import PIN_ATTEMPTS, Case, Intake, PinAttempts, PortalSession
from redress.hub.db import RATE_LIMIT_COUNTERS, Base
from redress.hub.disputes.models import OvermatchReport
from redress.hub.events import Event
from redress.hub.feedback.models import Feedback
from redress.hub.participants.models import ApiKey, Participant

__all__ = [
    "PIN_ATTEMPTS",
    "RATE_LIMIT_COUNTERS",
    "ApiKey",
    "Base",
    "Case",
    "Event",
    "FeedEntry",
    "Feedback",
    "Hold",
    "HoldItem",
    "Intake",
    "Item",
    "ItemSignal",
    "OvermatchReport",
    "Participant",
    "PinAttempts",
    "PortalSession",
    "Signal",
]

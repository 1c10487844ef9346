"""StopNCII compatibility: the bank's PDQ and MD5 signals as StopNCII's hash records, paged by
(time, id), and platforms' verdicts and hashes in StopNCII's shapes."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from redress.core.clock import Clock
from redress.hashing.errors import InvalidSignalError
from redress.hashing.signal_types import normalise_signal
from redress.hub.bank import service as bank
from redress.hub.bank.service import ItemState, Signal, SignalState, ValidSignal
from redress.hub.disputes import service as disputes
from redress.hub.errors import HubError
from redress.hub.feedback import service as feedback
from redress.hub.participants import service as participants
from redress.hub.participants.service import Caller
from redress.hub.stopncii.errors import StopnciiCode
from redress.hub.stopncii.schemas import (
    FROM_STOPNCII,
    TO_STOPNCII,
    CspFeedback,
    CspFeedbackOut,
    HashesPage,
    HashRecord,
    HashRecordOut,
)

#: Checkpoints lag this far behind the clock so a transaction that commits late is re-read.
SAFETY_SECONDS = 30
#: A page token: the (time, id) of the last record served. Opaque to clients.
TOKEN_PATTERN = r"^(?:([0-9]{1,18})\.([0-9]{1,18}))?$"  # noqa: S105 (a regular expression)


def _token(timestamp: int, signal_id: int) -> str:
    return f"{timestamp}.{signal_id}"


def read_token(token: str) -> tuple[int, int] | None:
    """The (time, id) a page token carries; None for an empty token (the first page)."""
    found = re.search(TOKEN_PATTERN, token)
    if found is None:
        raise HubError(
            400, StopnciiCode.BAD_PAGE_TOKEN, "nextPageToken is not one this hub gave out."
        )
    return None if found[1] is None else (int(found[1]), int(found[2]))


def _records(session: Session, signals: list[Signal]) -> list[HashRecordOut]:
    ids = [signal.id for signal in signals]
    holding = bank.holders(session, ids)
    verdicts = feedback.feedback_of(session, ids)
    names = participants.names(
        session, sorted({row.participant_id for rows in verdicts.values() for row in rows})
    )
    records = []
    for signal in signals:
        active = signal.status == SignalState.ACTIVE
        records.append(
            HashRecordOut(
                last_mod_timestamp=signal.modified_at,
                signal_type=TO_STOPNCII[signal.type],
                hash_value=signal.value,
                hash_status="Active" if active else "Withdrawn",
                case_numbers={
                    ref: "Active" if status == ItemState.ACTIVE and active else "Withdrawn"
                    for ref, status in holding[signal.id]
                },
                csp_feedbacks=[
                    CspFeedbackOut(
                        feedback_value=row.value,
                        tags=[t for t in row.tags.split(",") if t],
                        source=names[row.participant_id],
                    )
                    for row in verdicts[signal.id]
                ],
            )
        )
    return records


def fetch_hashes(
    session: Session,
    *,
    start_timestamp: int,
    page_size: int,
    page_token: str | None,
    clock: Clock,
) -> HashesPage:
    """Every PDQ/MD5 hash changed since `start_timestamp`, in (time, id) order, one page."""
    after = read_token(page_token) if page_token is not None else None
    rows = bank.changed_signals(
        session, kinds=list(TO_STOPNCII), since=start_timestamp, after=after, limit=page_size + 1
    )
    page, more = rows[:page_size], len(rows) > page_size
    records = _records(session, page)
    newest = page[-1].modified_at if page else start_timestamp
    now = int(clock.now().timestamp())
    return HashesPage(
        count=len(records),
        next_page_token=_token(page[-1].modified_at, page[-1].id) if more else None,
        next_set_timestamp=max(start_timestamp, min(newest, now - SAFETY_SECONDS)),
        has_more_records=more,
        hash_records=records,
    )


def _known(session: Session, value: str) -> Signal | None:
    """The published signal a platform names by value alone (64 characters: PDQ, else MD5);
    None when the hub holds none (or the value is not a hash)."""
    kind = "pdq" if len(value.strip()) == 64 else "md5"
    try:
        signal_type, canonical = normalise_signal(kind, value)
    except InvalidSignalError:
        return None
    return bank.find_signal(session, signal_type.name, canonical, published=True)


def _record_verdict(
    session: Session,
    caller: Caller,
    signal: Signal,
    verdict: CspFeedback,
    threshold: int,
    clock: Clock,
) -> None:
    feedback.record_feedback(
        session,
        participant_id=caller.participant_id,
        signal=signal,
        value=verdict.feedback_value,
        tags=verdict.tags,
        clock=clock,
    )
    disputes.review(session, signal_id=signal.id, threshold=threshold, clock=clock)


def submit_feedback(
    session: Session,
    *,
    caller: Caller,
    entries: list[object],
    dispute_threshold: int,
    clock: Clock,
) -> tuple[int, list[int]]:
    """Record each verdict; (how many were recorded, positions skipped: not a verdict, or a
    hash this hub does not hold)."""
    recorded, skipped = 0, []
    for index, entry in enumerate(entries):
        verdict = CspFeedback.read(entry)
        signal = _known(session, verdict.hash_value) if verdict is not None else None
        if verdict is None or signal is None:
            skipped.append(index)
            continue
        _record_verdict(session, caller, signal, verdict, dispute_threshold, clock)
        recorded += 1
    return recorded, skipped


def submit_hashes(
    session: Session,
    *,
    caller: Caller,
    records: list[HashRecord],
    dispute_threshold: int,
    clock: Clock,
) -> int:
    """Add each hash as an item of the platform's, with its verdicts; how many were added. An
    unsupported type or a bad value refuses the request (422, naming the record)."""
    added = 0
    for index, record in enumerate(records):
        # python-threatexchange sends str(enum): "StopNCIISignalType.ImagePDQ".
        name = record.signalType.rsplit(".", 1)[-1]
        kind = FROM_STOPNCII.get(name)
        if kind is None:
            raise HubError(
                422,
                StopnciiCode.INVALID_SIGNAL,
                f"hashRecords[{index}]: signalType {name!r} unsupported.",
            )
        kind, value = bank.normalise(kind, record.hashValue, f"hashRecords[{index}]")
        bank.add_item(
            session,
            [ValidSignal(kind, value, None, None)],
            clock=clock,
            participant_id=caller.participant_id,
            actor=f"participant:{caller.participant_id}",
        )
        signal = bank.find_signal(session, kind, value)
        for entry in record.CSPFeedbacks:
            verdict = CspFeedback.read(entry)
            if signal is not None and verdict is not None:
                _record_verdict(session, caller, signal, verdict, dispute_threshold, clock)
        added += 1
    return added

"""The review queue's state machine: a match the hub says to review is held (`pending`, with
`PendingReview` sent to the hub), then a moderator decides it once (`blocked` or `not_blocked`,
the verdict sent to the hub); a decided review cannot be decided again. A held upload is kept
until the decision or the retention limit, whichever comes first."""

from __future__ import annotations

import secrets
import shutil
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.agent.check.service import CheckResult
from redress.agent.errors import AgentError
from redress.agent.events import EventKind, record_event
from redress.agent.outbox.service import enqueue
from redress.agent.review.models import Review, ReviewStatus
from redress.core.clock import Clock

#: A moderator's verdict -> the review's status.
VERDICTS = {"Blocked": ReviewStatus.BLOCKED, "NotBlocked": ReviewStatus.NOT_BLOCKED}


class ReviewCode(StrEnum):
    """Why a verdict or a file is refused."""

    BAD_DECISION = "bad_decision"
    NO_SUCH_REVIEW = "no_such_review"
    ALREADY_DECIDED = "already_decided"
    NO_MEDIA = "no_media"


def hold(
    session: Session,
    *,
    clock: Clock,
    result: CheckResult,
    content_id: str | None,
    media: Path | None,
    media_dir: Path,
) -> None:
    """Queue reviews (and PendingReview) or Blocked feedback for the matches of a check; the
    new reviews' ids are added to `result.reviews`. A match already pending for the same
    `content_id` is not held twice."""
    kept_media: str | None = None
    for match in result.matches:
        if match.quarantined:
            continue
        if match.action == "block":
            enqueue(
                session,
                clock=clock,
                hub=match.hub,
                kind=match.type,
                value=match.value,
                feedback="Blocked",
            )
            continue
        if match.action != "review":
            continue
        if content_id is not None and session.scalar(
            select(Review.id).where(
                Review.content_id == content_id,
                Review.hub == match.hub,
                Review.signal_value == match.value,
                Review.status == ReviewStatus.PENDING,
            )
        ):
            continue
        if media is not None and kept_media is None:
            media_dir.mkdir(parents=True, exist_ok=True)
            kept = media_dir / secrets.token_hex(12)
            shutil.copyfile(media, kept)
            kept_media = str(kept)
        review = Review(
            hub=match.hub,
            signal_type=match.type,
            signal_value=match.value,
            item=match.items[0] if match.items else "",
            distance=match.distance,
            content_id=content_id,
            media_path=kept_media,
            status=ReviewStatus.PENDING,
            created_at=clock.now(),
        )
        session.add(review)
        session.flush()
        result.reviews.append(review.id)
        record_event(
            session,
            clock=clock,
            kind=EventKind.REVIEW_CREATED,
            subject=f"review:{review.id}",
            hub=match.hub,
            type=match.type,
            with_media=kept_media is not None,
        )
        enqueue(
            session,
            clock=clock,
            hub=match.hub,
            kind=match.type,
            value=match.value,
            feedback="PendingReview",
        )


def decide(
    session: Session, *, clock: Clock, review_id: int, decision: str, moderator: str
) -> Review:
    """A moderator's verdict on a held match: `Blocked` or `NotBlocked`; queued for the hub.
    The held file, if any, is deleted."""
    status = VERDICTS.get(decision)
    if status is None:
        raise AgentError(422, ReviewCode.BAD_DECISION, "decision must be Blocked or NotBlocked")
    review = session.get(Review, review_id)
    if review is None:
        raise AgentError(404, ReviewCode.NO_SUCH_REVIEW, f"There is no review {review_id}.")
    if review.status != ReviewStatus.PENDING:
        raise AgentError(
            409,
            ReviewCode.ALREADY_DECIDED,
            f"Review {review_id} was already decided ({review.status}).",
        )
    review.status = status
    review.decided_at = clock.now()
    review.decided_by = moderator[:100]
    enqueue(
        session,
        clock=clock,
        hub=review.hub,
        kind=review.signal_type,
        value=review.signal_value,
        feedback=decision,
    )
    record_event(
        session,
        clock=clock,
        kind=EventKind.REVIEW_DECIDED,
        subject=f"review:{review.id}",
        status=status.value,
    )
    if review.media_path:
        Path(review.media_path).unlink(missing_ok=True)
        review.media_path = None
    return review


def listed(session: Session, *, status: str, limit: int) -> list[Review]:
    """Reviews in `status`, oldest first."""
    return list(
        session.scalars(
            select(Review).where(Review.status == status).order_by(Review.id).limit(limit)
        )
    )


def media_path(session: Session, *, review_id: int) -> Path:
    """The file held for this review (until decided or the retention limit)."""
    review = session.get(Review, review_id)
    if review is None or not review.media_path or not Path(review.media_path).exists():
        raise AgentError(404, ReviewCode.NO_MEDIA, "No file is held for this review.")
    return Path(review.media_path)


def expire_media(session: Session, *, clock: Clock, retention_hours: float) -> None:
    """Delete held files older than the retention limit."""
    limit = clock.now() - timedelta(hours=retention_hours)
    for review in session.scalars(
        select(Review).where(Review.media_path.is_not(None), Review.created_at < limit)
    ):
        if review.media_path:
            Path(review.media_path).unlink(missing_ok=True)
        review.media_path = None

"""Platforms' verdicts on signals (PendingReview, Blocked, NotBlocked)."""

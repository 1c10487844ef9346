"""Matches held for a moderator: the queue, its verdicts, the review page and its sign-ins."""

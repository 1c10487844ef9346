"""Disputed signals: over-matching reports, quarantine, restoring by staff."""

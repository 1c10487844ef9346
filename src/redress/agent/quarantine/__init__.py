"""The flood safeguard: bank signals that match too many distinct uploads are quarantined."""

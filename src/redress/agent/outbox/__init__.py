"""Feedback waiting to reach the hubs, delivered with retries until acknowledged."""

"""Platforms (participants) and their API keys."""

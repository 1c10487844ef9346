"""The hub's HTTP API: survivors' cases, the platform feed and feedback, StopNCII compatibility."""

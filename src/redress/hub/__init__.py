"""The hub: survivors' cases, the hash bank, the feed to platforms and their feedback."""

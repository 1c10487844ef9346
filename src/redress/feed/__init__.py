"""The feed a hub publishes (adds and removals in commit order) as it crosses the wire: the
compact binary format, and a client that follows a hub (snapshot, then deltas)."""

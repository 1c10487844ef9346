"""The agent's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Prometheus metrics of one agent (its own registry, so agents can share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.index_size = Gauge(
            "redress_agent_index_signals", "Live signals", ["hub", "type"], registry=r
        )
        self.lag_entries = Gauge(
            "redress_agent_sync_lag_entries", "Feed entries behind", ["hub"], registry=r
        )
        self.lag_seconds = Gauge(
            "redress_agent_sync_lag_seconds",
            "Seconds since the agent was last caught up",
            ["hub"],
            registry=r,
        )
        self.sync_errors = Counter(
            "redress_agent_sync_errors_total", "Failed syncs", ["hub"], registry=r
        )
        self.check_latency = Histogram(
            "redress_agent_check_seconds",
            "check latency",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 2, 10),
            registry=r,
        )
        self.decisions = Counter(
            "redress_agent_decisions_total", "check decisions", ["decision"], registry=r
        )
        self.outbox = Gauge(
            "redress_agent_outbox_pending", "Feedback not yet acknowledged", registry=r
        )
        self.index_bytes = Gauge(
            "redress_agent_pdq_index_bytes", "Memory of the PDQ index", ["hub"], registry=r
        )

"""Client addresses for rate limits and PIN budgets: X-Forwarded-For read from the right through
`REDRESS_TRUSTED_PROXIES` (spoofed entries ignored), IPv6 counted by its /64."""

from __future__ import annotations

import pytest

from redress.core.clock import ManualClock
from redress.web.context import budget_address
from tests.hub.conftest import hub_settings, pdq
from tests.hub.test_lockout import hubs


@pytest.mark.parametrize(
    ("proxies", "header", "counted_as"),
    [
        (0, "{spoof}", "the connection"),
        (1, "{spoof}, 203.0.113.5", "203.0.113.5"),
        (2, "{spoof}, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "{spoof}", "the connection: fewer entries than proxies"),
    ],
)
def test_spoofed_forwarded_for_entries_are_ignored(
    database_url: str, proxies: int, header: str, counted_as: str
) -> None:
    clock = ManualClock()
    settings = hub_settings(database_url, case_creation_rate="3/hour", trusted_proxies=proxies)
    with hubs(settings, clock) as (running,):
        body = {"statement_version": running.statement_version(), "items": [{"signals": [pdq()]}]}
        codes = [
            running.client.post(
                "/v1/cases", json=body, headers={"X-Forwarded-For": header.format(spoof=spoof)}
            ).status_code
            for spoof in ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"]
        ]
        assert codes == [201, 201, 201, 429, 429], counted_as
        if (
            "203.0.113.5" in header
        ):  # a different real client (as the proxies saw it) has its own budget
            elsewhere = header.format(spoof="1.1.1.1").replace("203.0.113.5", "203.0.113.6")
            answer = running.client.post(
                "/v1/cases", json=body, headers={"X-Forwarded-For": elsewhere}
            )
            assert answer.status_code == 201


def test_the_deprecated_trust_forwarded_for_means_one_proxy(database_url: str) -> None:
    clock = ManualClock()
    settings = hub_settings(database_url, case_creation_rate="1/hour", trust_forwarded_for=True)
    with hubs(settings, clock) as (running,):
        body = {"statement_version": running.statement_version(), "items": [{"signals": [pdq()]}]}
        first = {"X-Forwarded-For": "9.9.9.9, 203.0.113.5"}
        second = {"X-Forwarded-For": "8.8.8.8, 203.0.113.5"}
        assert running.client.post("/v1/cases", json=body, headers=first).status_code == 201
        assert running.client.post("/v1/cases", json=body, headers=second).status_code == 429


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # the same subscriber's network
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("[2001:db8::1]", "2001:db8::/64"),
        ("not an address", "unknown"),
    ],
)
def test_addresses_are_counted_by_subscriber(address: str, counted_as: str) -> None:
    assert budget_address(address) == counted_as

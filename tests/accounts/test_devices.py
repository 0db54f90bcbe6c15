"""What the list of sessions says of where each was opened: the browser and system named
from the User-Agent, the network of the address and never the address itself."""

from __future__ import annotations

import pytest
from flask import Flask

from modern.accounts.devices import describe, summary
from modern.throttling import network_of


@pytest.mark.parametrize(("user_agent", "expected"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", {"browser": "Edge", "system": "Windows"}),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
     {"browser": "Safari", "system": "iPhone"}),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0",
     {"browser": "Firefox", "system": "macOS"}),
    ("Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
     {"browser": "Samsung Internet", "system": "Android"}),
    ("curl/8.5.0", {}),
    ("", {}),
])
def test_the_device_is_named_from_the_user_agent(user_agent: str,
                                                 expected: dict[str, str]) -> None:
    assert describe(user_agent) == expected


def test_the_summary_reads_in_the_pages_language(app: Flask) -> None:
    device = {"browser": "Firefox", "system": "Windows"}
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert summary(device) == "Firefox sur Windows"
        assert summary({"system": "Android"}) == "Android"
        assert summary(None) == "Appareil non reconnu"
    with app.test_request_context(headers={"Accept-Language": "en-GB"}):
        assert summary(device) == "Firefox on Windows"
        assert summary({}) == "Unrecognised device"


@pytest.mark.parametrize(("address", "network"), [
    ("203.0.113.57", "203.0.113.x"),
    ("::ffff:203.0.113.57", "203.0.113.x"),
    ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
    ("unknown", None),
])
def test_only_the_network_of_an_address_is_kept(address: str, network: str | None) -> None:
    assert network_of(address) == network

from __future__ import annotations

import pytest

from ze.core.errors import RegistryError
from ze.hub.bus import Hub


def test_publish_matches_exact_prefix_and_star():
    hub = Hub()
    got = []
    hub.subscribe("bgp/update", lambda t, p: got.append(("exact", t, p)))
    hub.subscribe("bgp/", lambda t, p: got.append(("prefix", t, p)), owner="rib")
    hub.subscribe("*", lambda t, p: got.append(("star", t, p)))
    assert hub.publish("bgp/update", b"\x01") == 3
    assert hub.publish("rib/best", 7) == 1
    assert hub.publish("bgp", None) == 1
    assert got == [
        ("exact", "bgp/update", b"\x01"),
        ("prefix", "bgp/update", b"\x01"),
        ("star", "bgp/update", b"\x01"),
        ("star", "rib/best", 7),
        ("star", "bgp", None),
    ]


def test_failing_subscriber_does_not_stop_others():
    hub = Hub()
    got = []

    def bad(t, p):
        raise RuntimeError("boom")

    hub.subscribe("x", bad, owner="bad")
    sub = hub.subscribe("x", lambda t, p: got.append(p))
    assert hub.publish("x", 1) == 1
    assert got == [1]
    hub.unsubscribe(sub)
    assert hub.publish("x", 2) == 0
    assert hub.status() == {
        "published": 2,
        "subscriptions": [{"pattern": "x", "owner": "bad", "delivered": 0}],
        "queues": [],
        "under-pressure": False,
        "components": [],
    }


def test_components_are_unique():
    hub = Hub()
    hub.register("bgp", object(), owner="core")
    with pytest.raises(RegistryError, match="'bgp' registered twice, by core and by other"):
        hub.register("bgp", object(), owner="other")
    with pytest.raises(ValueError):
        hub.subscribe("", lambda t, p: None)

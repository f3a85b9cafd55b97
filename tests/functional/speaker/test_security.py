"""TCP-MD5 (RFC 2385) between two ze daemons on loopback, and GTSM (RFC 5082) in a namespace pair:
matching settings establish, a wrong password or a missing GTSM on one side does not."""

from __future__ import annotations

import os
import time

import pytest

from tests.functional.speaker.lab import (
    conf,
    daemons,
    established,
    free_port,
    have_netns,
    netns_delete,
    netns_pair,
    peer,
    start,
    unique_net,
)


def never_established(r, name: str, seconds: float) -> dict:
    end = time.monotonic() + seconds
    p = peer(r, name)
    while time.monotonic() < end:
        p = peer(r, name)
        assert p["state"] != "established", p
        time.sleep(0.2)
    return p


@pytest.mark.parametrize("wrong", [False, True], ids=["same-password", "wrong-password"])
def test_md5_between_two_daemons(tmp_path, wrong):
    net = unique_net()
    a_ip, b_ip = f"127.{net}.2.1", f"127.{net}.2.2"
    port = free_port(a_ip, b_ip)
    a = start(
        tmp_path, "a", conf("a", a_ip, 65001, port, [("b", b_ip, 65002)], peer_extra='md5-password "s3cret";')
    )
    pw = "other" if wrong else "s3cret"
    b = start(
        tmp_path, "b", conf("b", b_ip, 65002, port, [("a", a_ip, 65001)], peer_extra=f'md5-password "{pw}";')
    )
    try:
        if wrong:
            p = never_established(b, "a", 4.0)
            assert p["established-count"] == 0
        else:
            established(b, "a")
            established(a, "b")
            assert peer(a, "b")["md5-password"] == "********"
    finally:
        a.stop()
        b.stop()


@pytest.mark.skipif(bool(have_netns()), reason=have_netns() or "")
@pytest.mark.parametrize("both", [True, False], ids=["gtsm-both-sides", "gtsm-one-side"])
def test_gtsm_in_namespaces(tmp_path, both):
    tag = f"ze-speaker-{os.getpid() % 100000}-{int(both)}"
    na, nb = netns_pair(tag)
    port = 179
    a_text = conf("a", "10.99.0.1", 65001, port, [("b", "10.99.0.2", 65002)], peer_extra="ttl-security 1;")
    b_extra = "ttl-security 1;" if both else ""
    b_text = conf("b", "10.99.0.2", 65002, port, [("a", "10.99.0.1", 65001)], peer_extra=b_extra)
    try:
        with daemons(tmp_path, {"a": (a_text, na), "b": (b_text, nb)}) as d:
            a, b = d["a"], d["b"]
            if both:
                established(a, "b")
                established(b, "a")
            else:
                never_established(a, "b", 4.0)
    finally:
        netns_delete(na, nb)


def test_md5_key_changes_at_reload(tmp_path):
    import signal

    from tests.functional.conftest import wait_for

    net = unique_net()
    a_ip, b_ip = f"127.{net}.5.1", f"127.{net}.5.2"
    port = free_port(a_ip, b_ip)

    def texts(pw_a: str, pw_b: str) -> tuple[str, str]:
        return (
            conf("a", a_ip, 65001, port, [("b", b_ip, 65002)], peer_extra=f'md5-password "{pw_a}";'),
            conf("b", b_ip, 65002, port, [("a", a_ip, 65001)], peer_extra=f'md5-password "{pw_b}";'),
        )

    ta, tb = texts("old-key", "old-key")
    a = start(tmp_path, "a", ta)
    b = start(tmp_path, "b", tb)
    try:
        established(b, "a")
        # a alone changes its key: the session restarts (Cease 6) and cannot come back.
        ta, tb = texts("new-key", "old-key")
        a.conf.write_text(ta)
        a.signal(signal.SIGHUP)
        wait_for(lambda: peer(b, "a")["state"] != "established")
        never_established(b, "a", 3.0)
        # b follows: the listening sockets carry the new key and the session is back.
        ta, tb = texts("new-key", "new-key")
        b.conf.write_text(tb)
        b.signal(signal.SIGHUP)
        established(b, "a")
        established(a, "b")
    finally:
        a.stop()
        b.stop()

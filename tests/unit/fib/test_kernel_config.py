"""fib-kernel pieces that need no kernel: config, message encoding, error parsing."""

from __future__ import annotations

import struct

import pytest

from ze.fib.kernel import netlink as nl
from ze.fib.kernel.service import KernelConfig, prefix_text, route_key


def test_config_from_json():
    c = KernelConfig.from_json({"kernel": {"table": "main"}})
    assert (c.table, c.protocol, c.metric, c.stale_time, c.flush_on_stop) == (254, 186, None, 60.0, False)
    c = KernelConfig.from_json(
        {"table": 1000, "protocol": 99, "metric": 20, "stale-time": 5, "flush-on-stop": True}
    )
    assert (c.table, c.protocol, c.metric, c.stale_time, c.flush_on_stop) == (1000, 99, 20, 5.0, True)
    with pytest.raises(ValueError, match=r"'main' or a number"):
        KernelConfig.from_json({"table": "blue"})
    with pytest.raises(ValueError, match=r"1\.\.255"):
        KernelConfig.from_json({"protocol": 0})


def test_route_keys():
    k = route_key(10 << 24, 8)
    assert prefix_text(1, k) == "10.0.0.0/8"
    assert prefix_text(2, route_key(0x20010DB8 << 96, 32)) == "2001:db8::/32"


def test_nexthop_bodies():
    body = nl.nh_single(7, 1, bytes([10, 0, 1, 2]), 3, 186)
    assert body[:8] == struct.pack("=BBBBI", 2, 0, 186, 0, 0)
    assert nl.attrs(body, 8, len(body)).keys() == {nl.NHA_ID, nl.NHA_GATEWAY, nl.NHA_OIF}
    g = nl.nh_group(9, [7, 8], 186)
    a = nl.attrs(g, 8, len(g))
    assert bytes(a[nl.NHA_GROUP]) == struct.pack("=IBBHIBBH", 7, 0, 0, 0, 8, 0, 0, 0)


def test_extended_ack_is_parsed():
    msg = b"Nexthop id does not exist\0"
    attr = struct.pack("=HH", 4 + len(msg), nl.NLMSGERR_ATTR_MSG) + msg
    attr += b"\0" * (-len(attr) % 4)
    body = struct.pack("=i", -22) + struct.pack("=IHHII", 52, 24, 0x405, 77, 0) + attr
    data = (
        struct.pack("=IHHII", 16 + len(body), nl.NLMSG_ERROR, nl.NLM_F_CAPPED | nl.NLM_F_ACK_TLVS, 77, 0)
        + body
    )
    ((ty, fl, _seq, _pid, off, end),) = list(nl.messages(data))
    assert ty == nl.NLMSG_ERROR
    assert nl.parse_error(data, off, end, fl) == (22, 77, "Nexthop id does not exist")

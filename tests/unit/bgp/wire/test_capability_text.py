"""Capabilities carrying text: hostname and software version."""

from __future__ import annotations

import pytest

from ze.bgp.wire.capability.hostname import Hostname
from ze.bgp.wire.capability.software_version import SoftwareVersion
from ze.core.errors import WireError


def err(cls, hexvalue, base=0):
    with pytest.raises(WireError) as e:
        cls.from_wire(memoryview(bytes.fromhex(hexvalue)), base)
    return e.value.code, e.value.subcode, e.value.offset


def test_hostname():
    cap = Hostname.from_value("r1", "example.net")
    assert cap.to_bytes() == bytes.fromhex("490F" + "02" + "7231" + "0B" + b"example.net".hex())
    assert (cap.hostname, cap.domain) == ("r1", "example.net")
    assert cap.to_json() == {"hostname": "r1", "domain": "example.net"}
    assert Hostname.from_json(cap.to_json()) == cap
    assert Hostname.from_json({"hostname": "r2"}).to_bytes() == bytes.fromhex("4904027232" + "00")


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("", 50),  # no length octets
        ("02", 50),  # hostname length only
        ("057231", 50),  # hostname length overruns
        ("02723103", 53),  # domain length overruns (offset: the domain length octet)
        ("0272310000", 53),  # a byte left over
    ],
)
def test_hostname_bad_lengths(value, offset):
    assert err(Hostname, value, 50) == (2, 0, offset)


def test_hostname_not_utf8_names_the_byte():
    assert err(Hostname, "0272FF00", 50) == (2, 0, 52)
    assert err(Hostname, "00" + "02" + "61FE", 50) == (2, 0, 53)


def test_hostname_too_long_to_build():
    with pytest.raises(ValueError):
        Hostname.from_value("h" * 200, "d" * 60)


def test_software_version():
    cap = SoftwareVersion.from_value("BIRD 2.15")
    assert cap.to_bytes() == bytes.fromhex("4B0A09" + b"BIRD 2.15".hex())
    assert (cap.version, cap.to_json()) == ("BIRD 2.15", "BIRD 2.15")
    assert SoftwareVersion.from_json("BIRD 2.15") == cap
    assert err(SoftwareVersion, "", 8) == (2, 0, 8)
    assert err(SoftwareVersion, "0361", 8) == (2, 0, 8)
    assert err(SoftwareVersion, "0261FF", 8) == (2, 0, 10)
    with pytest.raises(ValueError):
        SoftwareVersion.from_json(5)
    with pytest.raises(ValueError):
        SoftwareVersion.from_value("v" * 255)

"""LOCAL_PREF (type 5, well-known; RFC 4271 4.3 and 5.1.5): a 4-byte preference, iBGP only."""

from __future__ import annotations

from ze.bgp.wire.attr.base import TRANSITIVE, AttrSpec
from ze.bgp.wire.attr.common import Number32


class LocalPref(Number32):
    CODE = 5
    NAME = "local-preference"
    FLAGS = TRANSITIVE
    __slots__ = ()


SPEC = AttrSpec(
    LocalPref.CODE, LocalPref.NAME, LocalPref, text="local-preference", parse_text=LocalPref.parse_text
)

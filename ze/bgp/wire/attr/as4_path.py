"""AS4_PATH (type 17, optional transitive; RFC 6793 3 and 6): the 4-byte AS path an ASN2
speaker carries beside AS_PATH. Always 4-byte ASNs whatever the context; errors are Optional
Attribute Errors (RFC 6793 6 / RFC 7606: attribute discard). Merging: as4merge.py."""

from __future__ import annotations

from ze.bgp.wire.attr.aspath import AsPath
from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE, AttrSpec
from ze.bgp.wire.attr.common import OPTIONAL_ATTRIBUTE_ERROR


class As4Path(AsPath):
    CODE = 17
    NAME = "as4-path"
    FLAGS = OPTIONAL | TRANSITIVE
    WIDE = True
    SUBCODE = OPTIONAL_ATTRIBUTE_ERROR
    __slots__ = ()


SPEC = AttrSpec(As4Path.CODE, As4Path.NAME, As4Path)

"""RFC 8654 Extended Message (messages up to 65535 bytes): capability code 6, empty value; JSON value {}."""

from __future__ import annotations

from ze.bgp.wire.capability._fields import Empty
from ze.bgp.wire.capability.base import CapSpec


class ExtendedMessage(Empty):
    CODE = 6
    NAME = "extended-message"
    __slots__ = ()


SPEC = CapSpec(ExtendedMessage.CODE, ExtendedMessage.NAME, ExtendedMessage)

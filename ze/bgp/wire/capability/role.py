"""BGP Role (capability code 9, RFC 9234 section 4.1).

Value: one octet, the role of the sender: 0 provider, 1 rs (route server), 2 rs-client,
3 customer, 4 peer. A length other than 1 is malformed (OPEN 2/0). Values 5-255 are
unassigned: they are kept (the session decides: RFC 9234 4.2 makes a role it cannot pair a
Role Mismatch, 2/11), and shown in JSON as the number. JSON: the role name, e.g. "customer".
"""

from __future__ import annotations

from typing import Any

from ze.bgp.wire.capability._fields import check_u, need_len
from ze.bgp.wire.capability.base import Capability, CapSpec

PROVIDER, RS, RS_CLIENT, CUSTOMER, PEER = 0, 1, 2, 3, 4
NAMES = {PROVIDER: "provider", RS: "rs", RS_CLIENT: "rs-client", CUSTOMER: "customer", PEER: "peer"}
BY_NAME = {v: k for k, v in NAMES.items()}
# The role a correctly configured neighbour announces for each of ours (RFC 9234 4.2, Table 2).
PAIRS = {PROVIDER: CUSTOMER, CUSTOMER: PROVIDER, RS: RS_CLIENT, RS_CLIENT: RS, PEER: PEER}
ROLE_MISMATCH = 11  # OPEN error subcode, RFC 9234 section 4.2


class Role(Capability):
    CODE = 9
    NAME = "role"
    __slots__ = ()

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> Role:
        need_len(cls.NAME, view, 1, base)
        return cls(view)

    @classmethod
    def from_value(cls, role: int | str) -> Role:
        if isinstance(role, str):
            if role not in BY_NAME:
                raise ValueError(f"role {role!r}: expected one of {', '.join(BY_NAME)}")
            role = BY_NAME[role]
        return cls(bytes([check_u(role, 8, "role")]))

    @property
    def role(self) -> int:
        return self.raw[0]

    @property
    def role_name(self) -> str | None:
        return NAMES.get(self.raw[0])

    def to_json(self) -> str | int:
        return NAMES.get(self.raw[0], self.raw[0])

    @classmethod
    def from_json(cls, value: Any) -> Role:
        return cls.from_value(value)


SPEC = CapSpec(Role.CODE, Role.NAME, Role)

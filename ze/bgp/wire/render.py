"""JSON views of messages, in the event shape of the plugin protocol (DESIGN.md), and back.

    {"type": "bgp", "bgp": {
        "message": {"type": "update", "id": 7, "direction": "received"},
        "peer": {"address": "192.0.2.2", ...},
        "update": {
            "attr": {"origin": "igp", ...},
            "nlri": {
                "ipv4/unicast": [
                    {"action": "del", "nlri": ["10.9.0.0/16"]},
                    {"next-hop": "192.0.2.1", "action": "add", "nlri": ["10.0.0.0/24"]}],
                "ipv6/unicast": [
                    {"next-hop": "2001:db8::1", "next-hop-link-local": "fe80::1",
                     "action": "add", "nlri": ["2001:db8:1::/48"]}],
                "ipv6/multicast": [{"action": "eor"}]}}}}

- "attr" holds every path attribute but NEXT_HOP, MP_REACH_NLRI and MP_UNREACH_NLRI, keyed by
  the attribute's NAME, valued by its to_json(); those three become the "nlri" entries.
- Per family, withdrawals ("del") come before announcements ("add"); End-of-RIB (RFC 4724) is
  the entry {"action": "eor"}.
- With ADD-PATH an NLRI string carries its path id: "10.0.0.0/24 path-id 7" (the same words
  the route text syntax takes).
- A family this build has no codec for keeps its NLRI as {"raw": "HEX"} instead of "nlri".
- Other messages: "bgp": {"message": {"type": "open"}, "open": <Open.to_json()>} and so on.

Formats (the `format` a plugin subscribes with): "parsed" (the above), "hex" ({"hex": the
whole message}), "full" (parsed plus "hex"), "summary" ({"nlri": {family: {"add": n, "del": n}}},
"eor": true for End-of-RIB). Each is computed at most once per WireUpdate (cached on the
object); the envelope around it is cheap and built per call (direction, id and peer differ
per subscriber).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ze.bgp.wire.attr.base import Attribute
from ze.bgp.wire.attr.mpreach import RawNlri, nlri_json, parse_item
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.message import TYPE_NAMES, message_type
from ze.bgp.wire.update import (
    MP_REACH,
    MP_UNREACH,
    NEXT_HOP,
    NlriSection,
    RawAttribute,
    WireUpdate,
    build_updates,
)
from ze.core.family import IPV4_UNICAST, Family


def message_json(
    msg: Any,
    *,
    direction: str | None = None,
    msg_id: int | None = None,
    peer: Any = None,
    fmt: str = "parsed",
) -> dict:
    """The event JSON of one message. `peer` is an address string or the peer object's dict;
    `fmt` one of FORMATS (UPDATE only; other messages always render parsed)."""
    mtype = message_type(msg)
    name = TYPE_NAMES[mtype]
    head: dict[str, Any] = {"type": name}
    if msg_id is None:
        msg_id = getattr(msg, "msg_id", 0) or None
    if msg_id is not None:
        head["id"] = msg_id
    if direction is not None:
        head["direction"] = direction
    bgp: dict[str, Any] = {"message": head}
    if peer is not None:
        bgp["peer"] = peer if isinstance(peer, dict) else {"address": str(peer)}
    bgp[name] = update_view(msg, fmt) if isinstance(msg, WireUpdate) else msg.to_json()
    return {"type": "bgp", "bgp": bgp}


def _next_hop_text(attr: Attribute) -> str:
    raw = bytes(attr.raw)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    return raw.hex().upper()


def update_view(upd: WireUpdate, fmt: str = "parsed") -> dict:
    """The "update" object of an UPDATE event in format `fmt`, computed once per message and
    cached on it. WireError if the message is malformed; ValueError for an unknown format."""
    cache = upd.rendered
    if cache is None:
        cache = upd.rendered = {}
    view = cache.get(fmt)
    if view is None:
        render = _FORMATS.get(fmt)
        if render is None:
            raise ValueError(f"format {fmt!r}: expected one of {', '.join(_FORMATS)}")
        view = cache[fmt] = render(upd)
    return view


def update_json(upd: WireUpdate) -> dict:
    """The parsed "update" object (cached). WireError if malformed."""
    return update_view(upd, "parsed")


def _hex(upd: WireUpdate) -> dict:
    return {"hex": upd.to_bytes().hex().upper()}


def _full(upd: WireUpdate) -> dict:
    return {**update_view(upd, "parsed"), **update_view(upd, "hex")}


def _summary(upd: WireUpdate) -> dict:
    parsed = update_view(upd, "parsed")
    out: dict[str, Any] = {}
    for fam, entries in parsed["nlri"].items():
        counts = out.setdefault(fam, {"add": 0, "del": 0})
        for e in entries:
            if e["action"] == "eor":
                counts["eor"] = True
            elif "nlri" in e:
                counts[e["action"]] += len(e["nlri"])
            else:
                counts[e["action"]] += 1  # raw NLRI of a family without a codec, counted once
    return {"nlri": out}


def _parsed(upd: WireUpdate) -> dict:
    attr: dict[str, Any] = {}
    order: list[str] = []
    dels: dict[str, list] = {}
    adds: dict[str, list] = {}

    def put(table: dict[str, list], family: str, entry: dict) -> None:
        if family not in dels and family not in adds:
            order.append(family)
        table.setdefault(family, []).append(entry)

    eor = upd.is_eor()
    if eor is not None:
        return {"attr": {}, "nlri": {eor.name: [{"action": "eor"}]}}
    withdrawn = [p.text() for p in upd.withdrawn()]
    if withdrawn:
        put(dels, IPV4_UNICAST.name, {"action": "del", "nlri": withdrawn})
    next_hop: Attribute | None = None
    for a in upd.attributes():
        code = a.CODE
        if code == MP_REACH:
            fam = a.family  # type: ignore[attr-defined]
            entry: dict[str, Any] = {}
            hops = a.next_hops  # type: ignore[attr-defined]
            if hops:
                entry["next-hop"] = hops[0]
            if len(hops) > 1:
                entry["next-hop-link-local"] = hops[1]
            entry["action"] = "add"
            entry.update(nlri_json(fam, a.nlri()))  # type: ignore[attr-defined]
            put(adds, fam.name, entry)
        elif code == MP_UNREACH:
            fam = a.family  # type: ignore[attr-defined]
            if a.is_eor():  # type: ignore[attr-defined]
                put(dels, fam.name, {"action": "eor"})
            else:
                put(dels, fam.name, {"action": "del", **nlri_json(fam, a.nlri())})  # type: ignore[attr-defined]
        elif code == NEXT_HOP and next_hop is None:
            next_hop = a
        elif a.NAME not in attr:
            attr[a.NAME] = a.to_json()
    announced = [p.text() for p in upd.nlri()]
    if announced:
        entry = {}
        if next_hop is not None:
            entry["next-hop"] = _next_hop_text(next_hop)
        entry["action"] = "add"
        entry["nlri"] = announced
        put(adds, IPV4_UNICAST.name, entry)
    elif next_hop is not None:
        attr["next-hop"] = _next_hop_text(next_hop)
    nlri = {fam: dels.get(fam, []) + adds.get(fam, []) for fam in order}
    return {"attr": attr, "nlri": nlri}


_FORMATS = {"parsed": _parsed, "hex": _hex, "full": _full, "summary": _summary}
FORMATS = tuple(_FORMATS)


# -- JSON -> bytes ---------------------------------------------------------------------------


def _attr_from_json(name: str, v: Any, codecs: Any) -> Attribute:
    for spec in codecs.attrs.values():
        if spec.name == name:
            from_json = getattr(spec.cls, "from_json", None)
            if from_json is not None:
                return from_json(v)
            if spec.parse_text is not None:
                return spec.parse_text(v.split() if isinstance(v, str) else [str(w) for w in v])
            raise ValueError(f"attribute {name!r} cannot be built from JSON")
    if name.startswith("attribute-") and isinstance(v, dict) and {"code", "hex"} <= v.keys():
        return RawAttribute(bytes.fromhex(v["hex"]), int(v.get("flags", 0xC0)), int(v["code"]))
    raise ValueError(f"unknown attribute {name!r}")


def update_sections(obj: dict, codecs: Any = None) -> tuple[list[Attribute], list[NlriSection]]:
    """The attributes and nlri sections of an "update" object (or a whole event)."""
    if codecs is None:
        from ze.bgp.wire.codecs import core

        codecs = core()
    if "bgp" in obj:
        obj = obj["bgp"]
    if "update" in obj:
        obj = obj["update"]
    attrs: list[Attribute] = []
    classic_hop: str | None = None
    for name, v in obj.get("attr", {}).items():
        if name == "next-hop":
            classic_hop = v
            continue
        attrs.append(_attr_from_json(name, v, codecs))
    sections: list[NlriSection] = []
    for fam_name, entries in obj.get("nlri", {}).items():
        fam = Family.parse(fam_name)
        for e in entries:
            action = e.get("action")
            if action == "eor":
                sections.append(NlriSection(fam, "eor"))
                continue
            if "raw" in e:
                items: list = [RawNlri(bytes.fromhex(e["raw"]))]
            else:
                items = [parse_item(fam, t, codecs) for t in e.get("nlri", [])]
            hops: list[str] = []
            if "next-hop" in e:
                hops.append(e["next-hop"])
            elif action == "add" and fam == IPV4_UNICAST and classic_hop is not None:
                hops.append(classic_hop)
            if "next-hop-link-local" in e:
                hops.append(e["next-hop-link-local"])
            sections.append(NlriSection(fam, action, items, tuple(hops)))
    return attrs, sections


def update_from_json(obj: dict, ctx: EncodingContext = DEFAULT, codecs: Any = None) -> bytes:
    """The inverse of update_json: the UPDATE message(s) as bytes (several concatenated when the
    routes do not fit in one). ValueError when the JSON does not describe a valid UPDATE."""
    attrs, sections = update_sections(obj, codecs)
    return b"".join(build_updates(sections, attrs, ctx, codecs))

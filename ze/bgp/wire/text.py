"""The route text syntax, parsed into UPDATE messages (DESIGN.md "Plugin protocol").

    update text origin set igp nhop set 192.0.2.1 as-path set [65001 65002]
        community set [65000:1 no-export] med set 10
        nlri ipv4/unicast add 10.0.0.0/24 10.0.1.0/24 path-id 7
        nlri ipv4/unicast del 10.9.0.0/16
        nhop set [2001:db8::1 fe80::1] nlri ipv6/unicast add 2001:db8:1::/48
        nlri ipv6/unicast eor
    update hex attr set 40010100 nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24

- `KEYWORD set VALUE`: KEYWORD is an attribute's text keyword (codecs.by_text; the spec's
  parse_text gets the words of VALUE); VALUE is one word or a bracketed list `[a b c]`, whose
  outer brackets are removed (inner brackets are passed on as words of their own).
- `nhop set ADDRESS` (or `[GLOBAL LINK-LOCAL]`) is the next hop of the nlri sections that
  follow it: NEXT_HOP for IPv4 unicast, the MP_REACH_NLRI next hop for other families (an IPv6
  next hop for IPv4 NLRI needs extended next hop in the context, RFC 8950).
- `nlri FAMILY add|del PREFIX [path-id N] ...` announces or withdraws; `nlri FAMILY eor` sends
  the End-of-RIB marker. A family without an NLRI codec here takes packed NLRI as
  `raw HEX ...` (a plugin that encodes the family turns its text into these: encode-nlri).
  Path ids need ADD-PATH for the family in the context.
- Attributes apply to every announcement of the command, wherever they are written.
- `update hex attr set HEX`: HEX is a packed path-attribute block (headers and values).

Errors are TextError (a ValueError) naming the word position (1-based, brackets counted as
words) and what was expected there.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ze.bgp.wire.attr import walk as attr_walk
from ze.bgp.wire.attr.base import EXTENDED_LENGTH, Attribute
from ze.bgp.wire.attr.mpreach import RawNlri, parse_item
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.update import MP_REACH, MP_UNREACH, NEXT_HOP, NlriSection, RawAttribute, build_updates
from ze.core.errors import WireError
from ze.core.family import Family

NHOP_WORDS = ("nhop", "next-hop")
ACTIONS = ("add", "del", "eor")


class TextError(ValueError):
    """A route text command that does not parse: `position` is the 1-based word number."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


def tokenize(text: str) -> list[str]:
    return text.replace("[", " [ ").replace("]", " ] ").split()


class _Parser:
    def __init__(self, words: list[str], ctx: EncodingContext, codecs: Any) -> None:
        self.words = words
        self.pos = 0
        self.ctx = ctx
        self.codecs = codecs
        self.attrs: dict[int, Attribute] = {}
        self.sections: list[NlriSection] = []
        self.next_hops: tuple[str, ...] = ()

    def error(self, expected: str, at: int | None = None) -> TextError:
        at = self.pos if at is None else at
        if at >= len(self.words):
            return TextError(f"word {at + 1}: expected {expected}, got the end of the command", at + 1)
        return TextError(f"word {at + 1} {self.words[at]!r}: expected {expected}", at + 1)

    def peek(self) -> str | None:
        return self.words[self.pos] if self.pos < len(self.words) else None

    def take(self, expected: str) -> str:
        w = self.peek()
        if w is None:
            raise self.error(expected)
        self.pos += 1
        return w

    def expect(self, word: str) -> None:
        if self.peek() != word:
            raise self.error(repr(word))
        self.pos += 1

    def value(self, what: str) -> list[str]:
        """One word, or the words inside a bracketed list."""
        w = self.take(what)
        if w == "]":
            raise self.error(what, self.pos - 1)
        if w != "[":
            return [w]
        start = self.pos - 1
        depth = 1
        out = []
        while True:
            w = self.peek()
            if w is None:
                raise self.error(f"']' closing the list opened at word {start + 1}")
            self.pos += 1
            depth += (w == "[") - (w == "]")
            if depth == 0:
                return out
            out.append(w)

    def is_keyword(self, w: str) -> bool:
        return w in {"nlri", "attr"} or w in NHOP_WORDS or w in self.codecs.by_text

    def add_attr(self, attr: Attribute, at: int) -> None:
        code = attr.CODE
        if code in (MP_REACH, MP_UNREACH):
            raise TextError(
                f"word {at + 1}: MP_REACH/MP_UNREACH come from nlri sections, not attributes", at + 1
            )
        if code == NEXT_HOP:
            self.next_hops = (str(ipaddress.IPv4Address(bytes(attr.raw))),) if len(attr.raw) == 4 else ()
            if not self.next_hops:
                raise TextError(f"word {at + 1}: NEXT_HOP must be 4 bytes", at + 1)
            return
        if code in self.attrs:
            raise TextError(f"word {at + 1}: attribute {attr.NAME} given twice", at + 1)
        self.attrs[code] = attr

    def parse(self, hex_mode: bool) -> None:
        while self.peek() is not None:
            at = self.pos
            w = self.take("a keyword")
            if w == "nlri":
                self.nlri()
            elif w in NHOP_WORDS:
                self.expect("set")
                vat = self.pos
                hops = self.value("a next-hop address")
                for i, h in enumerate(hops):
                    try:
                        ipaddress.ip_address(h)
                    except ValueError:
                        raise self.error(
                            "an IPv4 or IPv6 address", vat + (self.words[vat] == "[") + i
                        ) from None
                if len(hops) > 2:
                    raise self.error("at most two next hops (global and link-local)", vat)
                self.next_hops = tuple(hops)
            elif w == "attr" and hex_mode:
                self.expect("set")
                vat = self.pos
                self.hex_attrs(self.value("a hex path-attribute block"), vat)
            elif w in self.codecs.by_text:
                self.expect("set")
                vat = self.pos
                words = self.value(f"a value for {w}")
                try:
                    attr = self.codecs.by_text[w].parse_text(words)
                except ValueError as e:
                    raise TextError(f"word {vat + 1}: {e}", vat + 1) from None
                self.add_attr(attr, at)
            else:
                known = ", ".join(
                    sorted([*self.codecs.by_text, "nhop", "nlri"] + (["attr"] if hex_mode else []))
                )
                raise self.error(f"an attribute keyword or nlri ({known})", at)

    def hex_attrs(self, words: list[str], at: int) -> None:
        try:
            data = bytes.fromhex("".join(words))
        except ValueError:
            raise self.error("hex digits", at) from None
        try:
            for flags, code, vs, ve in attr_walk.walk(data, 0, len(data)):
                self.add_attr(RawAttribute(data[vs:ve], flags, code), at)
        except WireError as e:
            raise TextError(f"word {at + 1}: attribute block: {e}", at + 1) from None

    def nlri(self) -> None:
        fat = self.pos
        fam_word = self.take("a family (e.g. ipv4/unicast)")
        try:
            family = Family.parse(fam_word)
        except ValueError as e:
            raise TextError(f"word {fat + 1} {fam_word!r}: {e}", fat + 1) from None
        action = self.take("add, del or eor")
        if action not in ACTIONS:
            raise self.error("add, del or eor", self.pos - 1)
        if action == "eor":
            self.sections.append(NlriSection(family, "eor"))
            return
        items: list = []
        addpath = self.ctx.has_addpath(family)
        if self.codecs.families.get(family) is None:
            # no codec here: packed NLRI as `raw HEX` (what a plugin's encode-nlri gives)
            while self.peek() == "raw":
                self.pos += 1
                hat = self.pos
                try:
                    items.append(RawNlri(bytes.fromhex(self.take("the hex of packed NLRI"))))
                except ValueError:
                    raise self.error("the hex of packed NLRI", hat) from None
            if not items:
                raise self.error(f"'raw HEX' ({family.name} has no NLRI codec here)", self.pos)
        while self.peek() is not None and not self.is_keyword(self.peek() or ""):
            iat = self.pos
            text = self.take("a prefix")
            path_id = None
            if self.peek() == "path-id":
                self.pos += 1
                pat = self.pos
                pid = self.take("a path id")
                if not pid.isdigit() or int(pid) > 0xFFFFFFFF:
                    raise self.error("a path id (0..4294967295)", pat)
                if not addpath:
                    raise TextError(
                        f"word {pat}: path-id given but ADD-PATH is not on for {family.name}", pat
                    )
                path_id = int(pid)
            try:
                items.append(
                    parse_item(family, text if path_id is None else f"{text} path-id {path_id}", self.codecs)
                )
            except ValueError as e:
                raise TextError(f"word {iat + 1} {text!r}: {e}", iat + 1) from None
        if not items:
            raise self.error(f"a {family.name} prefix after {action}")
        hops = self.next_hops if action == "add" else ()
        if action == "add" and not hops:
            raise TextError(
                f"word {fat}: nlri {family.name} add needs a next hop first (nhop set ADDRESS)", fat
            )
        self.sections.append(NlriSection(family, action, items, hops))


def parse(
    text: str | list[str], ctx: EncodingContext = DEFAULT, codecs: Any = None
) -> tuple[list[Attribute], list[NlriSection]]:
    """A route text command -> (attributes, nlri sections). TextError when it does not parse."""
    if codecs is None:
        from ze.bgp.wire.codecs import core

        codecs = core()
    words = tokenize(text) if isinstance(text, str) else [w for t in text for w in tokenize(t)]
    p = _Parser(words, ctx, codecs)
    if p.peek() == "update":
        p.pos += 1
    mode = p.take("text or hex")
    if mode not in ("text", "hex"):
        raise p.error("text or hex", p.pos - 1)
    p.parse(mode == "hex")
    if not p.sections:
        raise p.error("at least one nlri section (nlri FAMILY add|del|eor ...)")
    return list(p.attrs.values()), p.sections


def encode_text(text: str | list[str], ctx: EncodingContext = DEFAULT, codecs: Any = None) -> list[bytes]:
    """A route text command -> the UPDATE messages (each within ctx.max_message)."""
    attrs, sections = parse(text, ctx, codecs)
    return list(build_updates(sections, attrs, ctx, codecs))


# -- the other way: a decoded UPDATE as a route text command ---------------------------------


def _as_words(v: Any) -> list[str] | None:
    """A JSON value as the words of `KEYWORD set VALUE`, when it is flat enough to be one."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (str, int)):
        return [str(v)]
    if isinstance(v, list) and all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in v):
        return ["[", *map(str, v), "]"]
    return None


def update_text(upd: Any, codecs: Any = None) -> str | None:
    """A WireUpdate as the route text command that encodes it (`update text ...`), or None when
    the text syntax cannot say it (NLRI of a family with no codec). Attributes whose value has
    no text form that parses back to the same bytes are carried in one `attr set HEX` block,
    which makes the command `update hex ...`."""
    from ze.bgp.wire.render import update_json  # lazy: render imports this module's neighbours

    if codecs is None:
        from ze.bgp.wire.codecs import core

        codecs = core()
    view = update_json(upd)
    if not view["nlri"]:
        return None  # attributes and no routes: nothing the text syntax can say
    words: list[str] = []
    raw = bytearray()
    by_code = {spec.code: spec for spec in codecs.by_text.values()}
    for (flags, _, vs, ve), a in zip(upd.attribute_headers(), upd.attributes()):
        if a.CODE in (NEXT_HOP, MP_REACH, MP_UNREACH):
            continue
        spec = by_code.get(a.CODE)
        value = _as_words(a.to_json()) if spec is not None else None
        if value is not None:
            inner = value[1:-1] if value[0] == "[" else value
            try:
                same = spec.parse_text(inner).to_bytes(upd.ctx) == a.to_bytes(upd.ctx)  # type: ignore[union-attr]
            except ValueError:
                same = False
            if same:
                words += [spec.text, "set", *value]  # type: ignore[union-attr]
                continue
        raw += upd.view[vs - (4 if flags & EXTENDED_LENGTH else 3) : ve]  # as received, flags unchanged
    if raw:
        words = ["attr", "set", raw.hex().upper(), *words]
    hops: tuple[str, ...] = ()
    for fam, entries in view["nlri"].items():
        for e in entries:
            if "raw" in e:
                return None
            if e["action"] == "add":
                new = tuple(h for h in (e.get("next-hop"), e.get("next-hop-link-local")) if h)
                if new != hops:
                    hops = new
                    words += ["nhop", "set", *(["[", *hops, "]"] if len(hops) > 1 else hops)]
            words += ["nlri", fam, e["action"], *e.get("nlri", [])]
    mode = "hex" if raw else "text"
    return " ".join(["update", mode, *words]).replace("[ ", "[").replace(" ]", "]")

"""Route commands naming a family whose NLRI a plugin encodes (encode-nlri).

The route text syntax takes, for a family ze has no codec for, packed NLRI as `raw HEX`. A
plugin that registered the family for encoding turns its own text form into those:

    update text origin set igp nhop set 192.0.2.1
        nlri ipv4/mpls-label add [10.0.0.0/24 label 300] [10.0.1.0/24 label 301]

becomes `... nlri ipv4/mpls-label add raw 300012C10A0000 raw 300012D10A0001` before the
speaker parses it. An item is one word, or several in brackets; the items end at the next
keyword (nlri, attr, nhop, an attribute's keyword). The engine calls `encode_command` for
update-route (from plugins and the control socket).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ze.bgp.wire.codecs import core
from ze.bgp.wire.text import NHOP_WORDS, tokenize
from ze.core.family import Family

Encode = Callable[[str, list[str], bool], Awaitable[list[bytes]]]


def _needs_plugin(fam_word: str, families: set[str]) -> str | None:
    try:
        fam = Family.parse(fam_word)
    except ValueError:
        return None
    if fam.name in families and core().families.get(fam) is None:
        return fam.name
    return None


async def encode_command(command: str, families: set[str], encode: Encode) -> str:
    """`command` with the NLRI of `families` (those plugins encode) given as `raw HEX`; the
    command unchanged when it names none. ValueError (from the plugin: RemoteError) when an
    item does not encode."""
    if not families or "nlri" not in command:
        return command
    words = tokenize(command)
    keywords = {"nlri", "attr", *NHOP_WORDS, *core().by_text}
    out: list[str] = []
    i = 0
    changed = False
    while i < len(words):
        w = words[i]
        out.append(w)
        i += 1
        fam = _needs_plugin(words[i], families) if w == "nlri" and i + 1 < len(words) else None
        if fam is None or words[i + 1] not in ("add", "del"):
            continue
        out += [words[i], words[i + 1]]
        i += 2
        items: list[str] = []
        while i < len(words) and words[i] not in keywords:
            if words[i] == "[":
                end = words.index("]", i) if "]" in words[i:] else len(words)
                items.append(" ".join(words[i + 1 : end]))
                i = end + 1
            else:
                items.append(words[i])
                i += 1
        add_path = any(" path-id " in f" {x} " for x in items)
        for packed in await encode(fam, items, add_path):
            out += ["raw", packed.hex().upper()]
        changed = True
    return " ".join(out) if changed else command

"""UPDATEs as the event JSON, with the NLRI of families ze has no codec for decoded by the
plugin that registered the family for decoding (`decode-nlri`).

ze's wire codec renders such NLRI as `{"raw": "HEX"}` (ze.bgp.wire.render); `fill_update`
asks `decode_nlri(family, bytes, add_path)` (an awaitable; None means "nobody decodes it",
and the raw entry stays) and puts `{"nlri": [text, ...]}` in its place, in a copy: the
rendered views are cached and shared, so they are never changed in place. The engine uses
this for `decode-update` and for the events it delivers to external plugins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.message import decode_input
from ze.bgp.wire.render import update_json
from ze.bgp.wire.update import WireUpdate
from ze.core.errors import WireError
from ze.core.family import AFI, Family

DecodeNlri = Callable[[str, bytes, bool], Awaitable[list[str] | None]]


def own_families() -> frozenset[str]:
    """The families ze's own codecs decode (plugins are never asked about these)."""
    from ze.bgp.wire.codecs import core

    return frozenset(f.name for f in core().families)


def context_of(obj: Any) -> EncodingContext:
    """An EncodingContext from decode-update's `context`: {"asn4": bool, "add-path": [family],
    "extended-message": bool, "extended-next-hop": [family]} (all optional)."""
    if not obj:
        return EncodingContext()
    if not isinstance(obj, dict):
        raise ValueError("context must be an object")
    return EncodingContext(
        asn4=bool(obj.get("asn4", True)),
        addpath=frozenset(Family.parse(str(f)) for f in obj.get("add-path") or []),
        extended_message=bool(obj.get("extended-message", False)),
        extended_nexthop=frozenset((Family.parse(str(f)), int(AFI.IPV6)) for f in obj.get("extended-next-hop") or []),
    )  # fmt: skip


def has_raw(view: Any) -> bool:
    nlri = view.get("nlri") if isinstance(view, dict) else None
    return isinstance(nlri, dict) and any("raw" in e for entries in nlri.values() for e in entries)


async def fill_update(
    view: dict[str, Any], decode_nlri: DecodeNlri, add_path: Callable[[str], bool] = lambda f: False
) -> dict[str, Any]:
    """`view` (an "update" object) with its raw NLRI decoded where a plugin can; a copy when
    anything changed, `view` itself otherwise."""
    if not has_raw(view):
        return view
    out: dict[str, list] = {}
    changed = False
    for family, entries in view["nlri"].items():
        new = []
        for e in entries:
            if "raw" in e:
                texts = await decode_nlri(family, bytes.fromhex(e["raw"]), add_path(family))
                if texts is not None:
                    e = {k: v for k, v in e.items() if k != "raw"}
                    e["nlri"] = list(texts)
                    changed = True
            new.append(e)
        out[family] = new
    return {**view, "nlri": out} if changed else view


async def fill_event(
    event: Any, decode_nlri: DecodeNlri, add_path: Callable[[str], bool] = lambda f: False
) -> Any:
    """An event dict (`{"type":"bgp","bgp":{...,"update":{...}}}`) with its update filled."""
    bgp = event.get("bgp") if isinstance(event, dict) else None
    if not isinstance(bgp, dict) or not has_raw(bgp.get("update")):
        return event
    update = await fill_update(bgp["update"], decode_nlri, add_path)
    if update is bgp["update"]:
        return event
    return {**event, "bgp": {**bgp, "update": update}}


async def decode_update(hexed: str, context: Any, decode_nlri: DecodeNlri) -> dict[str, Any]:
    """decode-update: `hexed` is an UPDATE (whole message, or header-less, or the body) ->
    {"update": <the "update" object of the event JSON>}. ValueError saying what is wrong."""
    try:
        data = bytes.fromhex(str(hexed))
    except ValueError:
        raise ValueError("hex: not hexadecimal") from None
    ctx = context_of(context)
    try:
        msg, _ = decode_input(data, ctx)
        if not isinstance(msg, WireUpdate):
            raise ValueError(f"not an UPDATE but a {type(msg).__name__}")
        view = update_json(msg)
    except WireError as e:
        raise ValueError(f"malformed UPDATE: {e}") from None
    view = await fill_update(view, decode_nlri, lambda f: ctx.has_addpath(Family.parse(f)))
    return {"update": view}


def event_filler(decode_nlri: DecodeNlri) -> Callable[[str, Any, Any], Awaitable[Any]]:
    """The engine's hook for events to external plugins: (topic, payload, rendered) -> the
    event with plugin-decoded NLRI (ADD-PATH as the UPDATE's session negotiated it)."""

    async def fill(topic: str, payload: Any, event: Any) -> Any:
        ctx = getattr(getattr(payload, "update", None), "ctx", None)
        if ctx is None:
            return await fill_event(event, decode_nlri)
        return await fill_event(event, decode_nlri, lambda f: ctx.has_addpath(Family.parse(f)))

    return fill

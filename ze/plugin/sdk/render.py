"""Hub payloads as the event JSON of the plugin protocol (DESIGN.md "Plugin protocol").

One function, `event_json(topic, payload, fmt)`, used on both sides of the protocol: the
engine renders what external plugins get with it (the daemon hands it to the host, which
never looks inside a payload), and an in-process plugin's `Event.json` calls it lazily, so a
plugin reads the same dicts wherever it runs. The UPDATE part is rendered once per message
and format (ze.bgp.wire.render caches it on the WireUpdate); the envelope is cheap.
"""

from __future__ import annotations

from typing import Any

from ze.bgp.events import PeerInfo, PeerStateChanged, PeerUpdate
from ze.bgp.wire.render import message_json

FORMATS = ("parsed", "hex", "full", "summary")


def peer_json(peer: PeerInfo) -> dict[str, Any]:
    return {"address": peer.address, "name": peer.name, "remote": {"as": peer.remote_as}}


def event_json(topic: str, payload: Any, fmt: str = "parsed") -> dict[str, Any]:
    """The event object a plugin gets for (topic, payload)."""
    if isinstance(payload, PeerUpdate):
        return message_json(
            payload.update, direction="received", msg_id=payload.msg_id, peer=peer_json(payload.peer), fmt=fmt
        )
    if isinstance(payload, PeerStateChanged):
        state: dict[str, Any] = {"state": payload.state}
        if payload.reason:
            state["reason"] = payload.reason
        return {
            "type": "bgp",
            "bgp": {"message": {"type": "state"}, "peer": peer_json(payload.peer), "state": state},
        }
    if isinstance(payload, dict) and "type" in payload:
        return payload  # already an event (emit-event from a plugin, config/applied ...)
    to_json = getattr(payload, "to_json", None)
    data = to_json() if callable(to_json) else payload
    ns = topic.split("/", 1)[0]
    return {"type": ns, ns: {"topic": topic, "data": data}}


def topic_of(event: dict[str, Any]) -> str:
    """The hub topic an event JSON came from ("bgp/update", "bgp/state", or its own topic)."""
    ns = event.get("type", "")
    body = event.get(ns)
    if isinstance(body, dict):
        if "topic" in body:
            return str(body["topic"])
        msg = body.get("message")
        if isinstance(msg, dict) and "type" in msg:
            return f"{ns}/{msg['type']}"
    return str(ns)

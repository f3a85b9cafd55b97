"""A minimal content-agnostic bus: publish a payload on a topic, subscribers get it.

Topics are slash-separated ("bgp/update", "config/applied"). A subscription names a topic
exactly, a prefix ending with "/" ("bgp/" gets every bgp topic), or "*" (everything). The hub
never looks inside a payload. Delivery is synchronous, in subscription order; a subscriber
that raises is logged and skipped, the others still get the payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ze.core.log import get_logger
from ze.core.registry import Registry

Callback = Callable[[str, Any], None]

log = get_logger("ze.hub")


@dataclass(eq=False, slots=True)
class Subscription:
    pattern: str
    callback: Callback
    owner: str
    delivered: int = 0

    def matches(self, topic: str) -> bool:
        p = self.pattern
        return p in ("*", topic) or (p.endswith("/") and topic.startswith(p))


@dataclass(slots=True)
class Hub:
    subscriptions: list[Subscription] = field(default_factory=list)
    components: Registry[str, Any] = field(default_factory=lambda: Registry("components"))
    published: int = 0

    def subscribe(self, pattern: str, callback: Callback, owner: str = "core") -> Subscription:
        if not pattern or (pattern != "*" and pattern.startswith("/")):
            raise ValueError(f"bad topic pattern {pattern!r}")
        sub = Subscription(pattern, callback, owner)
        self.subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self.subscriptions:
            self.subscriptions.remove(sub)

    def publish(self, topic: str, payload: Any) -> int:
        """Deliver to every matching subscriber; returns how many got it."""
        self.published += 1
        n = 0
        for sub in tuple(self.subscriptions):
            if not sub.matches(topic):
                continue
            try:
                sub.callback(topic, payload)
            except Exception as e:
                log.error("subscriber failed", topic=topic, owner=sub.owner, error=repr(e))
                continue
            sub.delivered += 1
            n += 1
        return n

    def register(self, name: str, component: Any, owner: str = "core") -> None:
        """A named component (a subsystem or plugin); names are unique."""
        self.components.register(name, component, owner)

    def status(self) -> dict[str, Any]:
        return {
            "published": self.published,
            "subscriptions": [
                {"pattern": s.pattern, "owner": s.owner, "delivered": s.delivered} for s in self.subscriptions
            ],
            "components": list(self.components),
        }

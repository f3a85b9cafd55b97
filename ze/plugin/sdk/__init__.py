"""The PUBLIC API for plugin authors (stdlib + msgspec): the same plugin code runs in-process
(in-memory pipe, then the direct bridge) or as a process (TLS connect-back). See docs/plugins.md."""

from ze.plugin.protocol.yang import schema_of_file
from ze.plugin.sdk.plugin import Command, Event, Plugin, Registration, Reject

__all__ = ["Command", "Event", "Plugin", "Registration", "Reject", "schema_of_file"]

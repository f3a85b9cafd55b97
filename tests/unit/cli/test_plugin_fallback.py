"""`ze show WORDS` / `ze clear WORDS` fall back to a plugin's command."""

from __future__ import annotations

from ze.cli.plugin import main_show_fallback


def test_show_and_clear_go_to_plugin_commands():
    assert main_show_fallback(["show", "forwarding", "p1"], {"peer"}) == [
        "plugin", "command", "show", "forwarding", "p1"
    ]  # fmt: skip
    assert main_show_fallback(["clear", "forwarding", "--json"], set()) == [
        "plugin", "command", "clear", "forwarding", "--json"
    ]  # fmt: skip
    assert main_show_fallback(["show", "peer"], {"peer"}) == ["show", "peer"]  # built in
    assert main_show_fallback(["clear"], set()) == ["clear"]  # nothing to run: `ze run clear`

"""`ze plugin run NAME --stdio`: an in-process feature speaking the protocol on stdin/stdout,
driven by hand through the five stages, a command and bye."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.functional.conftest import ZE
from ze.hub.discovery import discover


def test_stdio_debug_mode_five_stages_and_a_command():
    feats = discover()
    name = next((n for n, f in feats.items() if f.available), None)
    if name is None:
        pytest.skip("no in-process feature is available here")
    p = subprocess.Popen([*ZE, "plugin", "run", name, "--stdio"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip

    def read() -> tuple[str, str, dict | None]:
        line = p.stdout.readline()
        assert line, p.stderr.read()
        head, verb, *rest = line.rstrip("\n").split(" ", 2)
        return head[1:], verb, json.loads(rest[0]) if rest else None

    def send(text: str) -> None:
        p.stdin.write(text + "\n")
        p.stdin.flush()

    try:
        mid, verb, reg = read()
        assert verb == "ze-plugin-engine:declare-registration" and isinstance(reg["commands"], list)
        send(f"#{mid} ok")
        send('#1 ze-plugin-callback:configure {"sections":[]}')
        assert read() == ("1", "ok", None)
        mid, verb, caps = read()
        assert verb == "ze-plugin-engine:declare-capabilities" and caps == {"capabilities": []}
        send(f"#{mid} ok")
        send('#2 ze-plugin-callback:share-registry {"commands":[]}')
        assert read() == ("2", "ok", None)
        mid, verb, ready = read()
        assert verb == "ze-plugin-engine:ready" and "subscribe" in ready
        send(f"#{mid} ok")
        if reg["commands"]:
            cmd = reg["commands"][0]["name"]
            send(f'#3 ze-plugin-callback:execute-command {{"command":"{cmd}"}}')
            mid, verb, res = read()
            assert (mid, verb, res["status"]) == ("3", "ok", "done")
        send('#4 ze-plugin-callback:bye {"reason":"test"}')
        assert read() == ("4", "ok", None)
        assert p.wait(timeout=20) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()

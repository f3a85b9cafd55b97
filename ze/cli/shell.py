"""`ze cli`: an interactive shell (prompt_toolkit) with the same commands as the one-shots.

Tab completes commands, and arguments from the running daemon (peer names); `?` lists what
may come next with a line of help each; history is kept in ~/.ze_history ($ZE_HISTORY).
With stdin not a terminal it reads commands line by line, for scripts.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ze.api.client import call


@dataclass
class Word:
    """A node of the command tree: its help, what may follow, and a source of argument values."""

    help: str
    children: dict[str, Word] = field(default_factory=dict)
    argument: str | None = None  # name of a free argument following this word
    values: Callable[[], Iterable[str]] | None = None  # completions for that argument


# One-shot commands that make no sense inside the shell.
_EXCLUDED = frozenset({"run", "cli"})
_BUILTINS = {"help": "list the commands", "exit": "leave the shell", "quit": "leave the shell"}


def _from_parser(parser: argparse.ArgumentParser, path: tuple[str, ...], values: dict) -> dict[str, Word]:
    out: dict[str, Word] = {}
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help or "" for a in action._choices_actions}
        for name, sub in action.choices.items():
            if not path and name in _EXCLUDED:
                continue
            word = Word(helps.get(name, ""), _from_parser(sub, (*path, name), values))
            positionals = [
                a
                for a in sub._actions
                if not a.option_strings and not isinstance(a, argparse._SubParsersAction)
            ]
            if positionals and not word.children:
                word.argument = (positionals[0].metavar or positionals[0].dest).upper()
                word.values = values.get((*path, name))
            out[name] = word
    return out


def command_tree(peer_names: Callable[[], Iterable[str]]) -> dict[str, Word]:
    """The shell's commands: the one-shot commands' registry (ze.cli.main DOMAINS), walked."""
    from ze.cli.main import build_parser

    tree = _from_parser(build_parser(), (), {("show", "peer"): peer_names})
    tree.update({name: Word(text) for name, text in _BUILTINS.items()})
    return tree


def next_words(tree: dict[str, Word], words: list[str]) -> tuple[list[tuple[str, str]], str | None]:
    """What may follow `words`: (word, help) pairs, and the argument name if one is expected."""
    level = tree
    node: Word | None = None
    for w in words:
        if node is not None and node.argument and not node.children:
            return [], None  # the argument is given: nothing more
        if w not in level:
            return [], None
        node = level[w]
        level = node.children
    if node is not None and node.argument and not node.children:
        values = list(node.values()) if node.values else []
        return [(v, node.argument) for v in values], node.argument
    return [(k, v.help) for k, v in level.items()], None


class Shell:
    def __init__(self, socket_path: str | None, as_json: bool = False) -> None:
        self.socket = socket_path
        self.as_json = as_json
        self._peers_cache: list[str] | None = None
        self.tree = command_tree(self.peer_names)
        self.add_plugin_commands()

    def add_plugin_commands(self) -> None:
        """Commands the running daemon's plugins provide ("show forwarding" ...) join the tree."""
        try:
            data = call("ze-api:show-plugins", None, path=self.socket, timeout=5)
        except Exception:
            return
        for c in data["plugins"]["commands"]:
            if c["plugin"] == "ze":
                continue
            level = self.tree
            for w in c["name"].split():
                level = level.setdefault(w, Word(f"provided by plugin {c['plugin']}")).children

    def peer_names(self) -> list[str]:
        if self._peers_cache is None:
            try:
                data = call("ze-api:show-peers", None, path=self.socket, timeout=5)
                self._peers_cache = [p["name"] for p in data["peers"]]
            except Exception:
                self._peers_cache = []
        return self._peers_cache

    def help_text(self, words: list[str]) -> str:
        options, arg = next_words(self.tree, words)
        if arg and not options:
            return f"  <{arg}>\n"
        if not options:
            return "  (nothing more: press Enter)\n" if words else ""
        width = max(len(w) for w, _ in options)
        return "".join(f"  {w.ljust(width)}  {h}\n" for w, h in options)

    def execute(self, text: str) -> bool:
        """Run one command line; False when the shell should end."""
        try:
            words = shlex.split(text)
        except ValueError as e:
            print(f"ze: error: {e}", file=sys.stderr)
            return True
        if not words:
            return True
        if words[0] in ("exit", "quit"):
            return False
        if words[0] == "help" or words[-1] == "?":
            print(self.help_text([w for w in words if w not in ("help", "?")]), end="")
            return True
        from ze.cli.main import build_parser
        from ze.cli.plugin import main_show_fallback
        from ze.cli.show import SHOW_COMMANDS

        argv = main_show_fallback(list(words), SHOW_COMMANDS)
        if argv[0] not in self.tree or argv[0] in ("help", "exit", "quit"):
            import difflib

            close = difflib.get_close_matches(argv[0], list(self.tree), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            print(f"ze: error: unknown command '{argv[0]}'{hint}; '?' lists the commands", file=sys.stderr)
            return True
        try:
            args = build_parser().parse_args(argv)
        except SystemExit:
            return True  # argparse has printed why
        # Commands that talk to the daemon use the shell's socket unless told otherwise.
        if getattr(args, "socket", "absent") is None:
            args.socket = self.socket
        if self.as_json and hasattr(args, "json"):
            args.json = True
        func = getattr(args, "func", None)
        if func is not None:
            try:
                func(args)
            except KeyboardInterrupt:
                print()
        self._peers_cache = None  # a reload may have changed them
        return True


def _history_path() -> Path:
    return Path(os.environ.get("ZE_HISTORY") or Path.home() / ".ze_history")


def interactive(shell: Shell) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion, PathCompleter
    from prompt_toolkit.document import Document
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings

    class ZeCompleter(Completer):
        def get_completions(self, document, complete_event):
            text = document.text_before_cursor
            parts = text.split()
            current = "" if not parts or text.endswith(" ") else parts[-1]
            done = parts if current == "" else parts[:-1]
            options, arg = next_words(shell.tree, done)
            if arg == "FILE":  # a config file: complete paths
                yield from paths.get_completions(Document(current, len(current)), complete_event)
                return
            for word, helptext in options:
                if word.startswith(current):
                    yield Completion(word, start_position=-len(current), display_meta=helptext)

    paths = PathCompleter(expanduser=True)
    bindings = KeyBindings()

    @bindings.add("?")
    def _(event):
        words = event.app.current_buffer.document.text_before_cursor.split()
        text = event.app.current_buffer.document.text_before_cursor
        if words and not text.endswith(" "):
            words = words[:-1]  # help on the word being typed: what could stand there
        from prompt_toolkit.application import run_in_terminal

        help_text = shell.help_text(words)
        run_in_terminal(lambda: print(help_text or "  (no commands)", end=""))

    try:
        history = FileHistory(str(_history_path()))
        _history_path().touch(exist_ok=True)
    except OSError:
        history = InMemoryHistory()
    session: PromptSession = PromptSession(
        "ze> ", completer=ZeCompleter(), history=history, key_bindings=bindings, complete_while_typing=False
    )
    print("ze interactive shell: Tab completes, ? lists what may come next, exit leaves.")
    while True:
        try:
            text = session.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        if not shell.execute(text):
            return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cli", help="interactive shell with completion and help (? key)")
    p.add_argument("--socket", default=None, help="control socket of the running ze")
    p.add_argument("--json", action="store_true", help="JSON output for every command")
    p.set_defaults(func=cmd_cli)


def cmd_cli(args: argparse.Namespace) -> int:
    shell = Shell(args.socket, args.json)
    if sys.stdin.isatty() and sys.stdout.isatty():
        return interactive(shell)
    for text in sys.stdin:
        if not shell.execute(text):
            break
    return 0

"""The `ze cli` command tree: what may follow, with help, and argument values."""

from __future__ import annotations

from ze.cli.shell import Shell, command_tree, next_words


def test_next_words():
    tree = command_tree(lambda: ["a", "b"])
    # Built from the one-shot commands' parsers (minus run and cli), plus the shell's own.
    words = [w for w, _ in next_words(tree, [])[0]]
    assert {"show", "schema", "signal", "config", "help", "exit", "quit"} <= set(words)
    assert "run" not in words and "cli" not in words
    assert next_words(tree, ["signal"])[0] == [
        ("reload", "reload the config file (as SIGHUP); prints the peers added, removed, changed"),
        ("stop", "stop gracefully (as SIGTERM)"),
        ("status", "write a status dump to the log (as SIGUSR1) and print it"),
    ]
    assert next_words(tree, ["show", "peer"]) == ([("a", "NAME"), ("b", "NAME")], "NAME")
    assert next_words(tree, ["show", "peer", "a"]) == ([], None)
    assert next_words(tree, ["nope"]) == ([], None)
    assert next_words(tree, ["config", "validate"]) == ([], "FILE")


def test_script_mode(capsys, tmp_path):
    shell = Shell(str(tmp_path / "none.sock"))
    assert shell.execute("config ?") is True
    assert shell.execute("show peer ?") is True
    assert shell.execute("shwo peers") is True
    assert shell.execute("show peers") is True
    assert shell.execute("exit") is False
    out, err = capsys.readouterr()
    assert out == (
        "  validate  parse and check a config file; report every problem\n"
        "  show      show a config file as resolved (peers with inherited values)\n"
        "  history   the running daemon's commit archive (newest first)\n"
        "  rollback  make archived commit N the running config (1 = the previous one)\n"
        "  <NAME>\n"
    )
    assert err == (
        "ze: error: unknown command 'shwo' (did you mean 'show'?); '?' lists the commands\n"
        f"ze: error: ze is not running (no control socket at {tmp_path / 'none.sock'})\n"
    )

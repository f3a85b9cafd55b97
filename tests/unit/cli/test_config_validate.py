"""`ze config validate` knows the features' YANG modules, as `ze run` does."""

from __future__ import annotations

from ze.cli.main import main

FEATURES = """
bgp { router-id 10.0.0.1; local-as 65001; }
plugin { internal bgp-rib; internal sysrib; internal fib-kernel; }
rib { igp-cost none; }
fib { kernel { table main; } static { route 192.0.2.0/24 { next-hop 10.0.0.2; } } }
"""


def test_feature_blocks_validate(tmp_path, capsys):
    p = tmp_path / "ze.conf"
    p.write_text(FEATURES)
    assert main(["config", "validate", str(p)]) == 0
    assert "ok" in capsys.readouterr().out


def test_an_unknown_key_in_a_feature_block_is_an_error_with_its_place(tmp_path, capsys):
    p = tmp_path / "ze.conf"
    p.write_text(FEATURES.replace("table main;", "tabel main;"))
    assert main(["config", "validate", str(p)]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert "ze.conf:5:" in text and "tabel" in text, text

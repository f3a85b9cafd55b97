"""External plugins' YANG: top-level blocks deferred only when the config has `process`
entries, a declared module checked (compiles, module and namespace as declared, only its
wants-config roots, no clash with ze's roots or another plugin's module) and merged, and a
block then validated with file:line:column like core config."""

from __future__ import annotations

from pathlib import Path

import pytest

from ze.config.errors import ConfigProblems
from ze.config.plugin_yang import PluginModules
from ze.config.resolve import parse_config
from ze.core.errors import ConfigError
from ze.plugin.protocol.yang import module_of, schema_of_file

REPO = Path(__file__).resolve().parents[3]
LABELS = REPO / "examples/plugins/labels.yang"
PROCESS = 'process p { run "true"; }\n'


def yang(module: str = "t-mod", body: str = "container tee { leaf n { type uint8; } }") -> dict:
    text = f'module {module} {{ yang-version 1.1; namespace "urn:t:{module}"; prefix t; {body} }}'
    return {"module": module, "namespace": f"urn:t:{module}", "yang-text": text}


def test_unknown_roots_are_deferred_only_with_process_entries(schema):
    cfg = parse_config(PROCESS + "labels { base 5; }\nwhatever;\n", schema, "c.conf")
    assert {k: str(v) for k, v in cfg.deferred.items()} == {"labels": "c.conf:2:1", "whatever": "c.conf:3:1"}
    assert cfg.section("labels") == {}
    with pytest.raises(ConfigProblems) as e:
        parse_config("bgpp { }\n", schema, "c.conf")
    assert str(e.value) == "c.conf:1:1: unknown key 'bgpp' in the top level (did you mean 'bgp'?)"
    # a typo inside a known root is still an error at once
    with pytest.raises(ConfigProblems, match="unknown key 'queue-bund'"):
        parse_config(PROCESS + "plugin { queue-bund 3; }\n", schema, "c.conf")


def test_module_merged_and_block_validated(tmp_path):
    mods = PluginModules()
    try:
        merged = mods.add("labels", schema_of_file(LABELS), ["labels"])
        assert merged.root.children["labels"].module == "example-labels"
        assert mods.roots("labels", merged) == ["labels"]
        text = PROCESS + "labels {\n    base 100;\n    reserve lo { label 200; }\n}\n"
        cfg = parse_config(text, merged, "c.conf")
        assert cfg.section("labels") == {"base": 100, "reserve": {"lo": {"label": 200}}} and not cfg.deferred
        with pytest.raises(ConfigProblems) as e:
            parse_config(text.replace("base 100", "base 2"), merged, "c.conf")
        assert str(e.value) == "c.conf:3:10: base: 2 is out of range (expected label in 16..1048575)"
        assert mods.remove("labels") and not mods.files()
    finally:
        mods.close()


@pytest.mark.parametrize(
    ("schema", "roots", "message"),
    [
        ({"yang-text": "nothing here"}, ["tee"], "has no 'module NAME {'"),
        ({**yang(), "module": "other"}, ["tee"], "schema module 'other' but the yang-text defines 't-mod'"),
        ({**yang(), "namespace": "urn:x"}, ["tee"], "schema namespace 'urn:x'"),
        (yang(), ["elsewhere"], "defines config root\\(s\\) tee that wants-config does not name"),
        (yang(body="container tee { leaf n { type nosuchtype; } }"), ["tee"], "do not compile"),
        (yang(body="container bgp { leaf n { type uint8; } }"), ["bgp"], "config root 'bgp' defined twice"),
        (yang("ze-bgp"), ["tee"], "one of ze's own"),
        ("not a dict", ["tee"], "schema must be"),
    ],
)
def test_bad_modules_are_refused_and_nothing_stays(schema, roots, message):
    mods = PluginModules()
    try:
        with pytest.raises(ConfigError, match=message):
            mods.add("p", schema, roots)
        assert mods.files() == []
    finally:
        mods.close()


def test_one_module_per_name_and_a_failed_update_keeps_the_previous():
    mods = PluginModules()
    try:
        mods.add("p", yang(), ["tee"])
        with pytest.raises(ConfigError, match="already declared by plugin p"):
            mods.add("q", yang(), ["tee"])
        with pytest.raises(ConfigError, match="do not compile"):
            mods.add("p", yang(body="container tee { leaf n { type bad; } }"), ["tee"])
        assert "tee" in mods.schema().root.children  # the good module is still merged
    finally:
        mods.close()


def test_module_of():
    assert module_of('module a-b {\n  namespace "urn:a";') == ("a-b", "urn:a")
    with pytest.raises(ValueError):
        module_of("submodule x { }")

"""Datastore: candidate, commit with archive, rollback N; diff for reload."""

from __future__ import annotations

import pytest

from ze.config.datastore import Datastore
from ze.config.diff import diff
from ze.config.errors import ConfigProblems
from ze.config.resolve import parse_config


def conf(*peers, level="info"):
    body = " ".join(f"peer {n} {{ remote {{ ip 10.0.0.{i}; as {65000 + i}; }} }}" for n, i in peers)
    return f"environment {{ log {{ level {level}; }} }}\nbgp {{ router-id 1.1.1.1; local-as 1; {body} }}\n"


def test_commit_archive_rollback(tmp_path, schema):
    path = tmp_path / "ze.conf"
    v1, v2, v3 = conf(("a", 1)), conf(("a", 1), ("b", 2)), conf(("b", 2))
    path.write_text(v1)
    ds = Datastore(path, schema)
    assert list(ds.load().peers) == ["a"]
    assert ds.history() == []

    ds.edit(v2)
    assert list(ds.commit("add b").peers) == ["a", "b"]
    assert path.read_text() == v2
    ds.edit(v3)
    ds.commit("drop a")
    assert path.read_text() == v3
    hist = ds.history()
    assert [(c.number, c.comment, c.path.read_text()) for c in hist] == [
        (1, "add b", v2),
        (2, "before the first commit", v1),
    ]
    assert set(hist[0].to_dict()) == {"number", "time", "comment"}

    cfg = ds.rollback(2)
    assert list(cfg.peers) == ["a"]
    assert path.read_text() == v1
    assert [(c.number, c.comment) for c in ds.history()] == [
        (1, "drop a"),
        (2, "add b"),
        (3, "before the first commit"),
    ]
    assert ds.running is cfg


def test_bad_candidate_changes_nothing(tmp_path, schema):
    path = tmp_path / "ze.conf"
    path.write_text(conf(("a", 1)))
    ds = Datastore(path, schema)
    running = ds.load()
    ds.edit("bgp { hold-tim 3; }")
    with pytest.raises(ConfigProblems, match=r"ze.conf \(candidate\):1:7: unknown key 'hold-tim'"):
        ds.commit()
    assert ds.running is running
    assert path.read_text() == conf(("a", 1))
    assert ds.history() == []


def test_rollback_out_of_range(tmp_path, schema):
    path = tmp_path / "ze.conf"
    path.write_text(conf())
    ds = Datastore(path, schema)
    with pytest.raises(ConfigProblems, match=r"no commit 1 to roll back to \(the archive has 0\)"):
        ds.rollback(1)
    with pytest.raises(ConfigProblems, match="no candidate to commit"):
        ds.commit()


def test_diff(schema):
    old = parse_config(conf(("a", 1), ("b", 2), ("c", 3)), schema)
    new_text = conf(("b", 2), ("c", 3), ("d", 4)).replace("ip 10.0.0.3; as 65003;", "ip 10.0.0.3; as 65099;")
    new = parse_config(new_text.replace("level info", "level debug"), schema)
    d = diff(old, new)
    assert d.to_dict() == {
        "added": ["d"],
        "removed": ["a"],
        "changed": ["c"],
        "unchanged": ["b"],
        "sections": ["environment"],
    }
    assert not d.empty
    assert diff(old, parse_config(conf(("a", 1), ("b", 2), ("c", 3)), schema)).empty

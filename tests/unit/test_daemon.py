"""The daemon in-process: coalesced reloads, apply of a diff, every API method has an RPC."""

from __future__ import annotations

import asyncio

from ze.daemon import Daemon


def conf(*peers):
    body = " ".join(f"peer {n} {{ remote {{ ip 10.0.0.{i}; as {65000 + i}; }} }}" for n, i in peers)
    return f"bgp {{ router-id 1.1.1.1; local-as 1; {body} }}\n"


def test_handlers_match_ze_api_rpcs(tmp_path):
    path = tmp_path / "ze.conf"
    path.write_text(conf())
    d = Daemon(path)
    assert sorted(d._handlers()) == sorted(d.schema.rpcs)


def test_reload_requests_coalesce(tmp_path):
    path = tmp_path / "ze.conf"
    path.write_text(conf(("a", 1)))
    d = Daemon(path, socket_path=str(tmp_path / "ze.sock"))
    d.load()
    calls = []
    real = d.reload
    d.reload = lambda: calls.append(1) or real()

    async def main():
        loop_task = asyncio.create_task(d._reload_loop())
        path.write_text(conf(("a", 1), ("b", 2)))
        futures = [d.request_reload() for _ in range(10)]
        results = await asyncio.wait_for(asyncio.gather(*futures), 10)
        # A request made while that reload ran gets a reload of its own, after it.
        later = await asyncio.wait_for(d.request_reload(), 10)
        loop_task.cancel()
        return results, later

    results, later = asyncio.run(main())
    assert len(calls) == 2
    assert all(r is results[0] for r in results)
    assert results[0]["diff"] == {
        "added": ["b"],
        "removed": [],
        "changed": [],
        "unchanged": ["a"],
        "sections": [],
    }
    assert (later["status"], later["changed"]) == ("ok", False)
    assert list(d.peers) == ["a", "b"]
    assert d.reloads == {"ok": 1, "failed": 0, "unchanged": 1}


def test_apply_keeps_untouched_peer_state(tmp_path):
    path = tmp_path / "ze.conf"
    path.write_text(conf(("a", 1), ("b", 2)))
    d = Daemon(path)
    d.load()
    a_state = d.peers["a"]
    path.write_text(conf(("a", 1), ("c", 3)))
    result = d.reload()
    assert result["diff"]["added"] == ["c"] and result["diff"]["removed"] == ["b"]
    assert d.peers["a"] is a_state
    path.write_text("bgp { nonsense; }")
    bad = d.reload()
    assert bad["status"] == "error"
    assert bad["problems"] == [f"{path}:1:7: unknown key 'nonsense' in bgp"]
    assert list(d.peers) == ["a", "c"] and d.peers["a"] is a_state

"""MuxConn semantics over the in-memory pipe: concurrent requests both ways, responses routed
by id, errors, bad lines answered, pending requests failed on close."""

from __future__ import annotations

import asyncio

import pytest

from ze.plugin.protocol.mux import ConnectionLost, Mux, RemoteError, memory_pipe


def pair(handler_a, handler_b):
    loop = asyncio.get_running_loop()
    ea, eb = memory_pipe(loop.call_soon)
    a = Mux(ea.write, handler_a, loop.create_future, loop.create_task)
    b = Mux(eb.write, handler_b, loop.create_future, loop.create_task)
    ea.on_data, eb.on_data = a.feed, b.feed
    return a, b, ea, eb


def test_concurrent_requests_both_ways_are_matched_by_id():
    async def main():
        async def slow_echo(msg):
            await asyncio.sleep(0.01 * (5 - msg.payload["n"]))  # later requests answer first
            return {"n": msg.payload["n"], "verb": msg.verb}

        a, b, _, _ = pair(slow_echo, slow_echo)
        # the handler serves one request at a time (ordered); concurrency is in flight, not handling
        futs = [a.request("t:echo", {"n": i}) for i in range(5)] + [b.request("t:back", {"n": 1})]
        res = await asyncio.wait_for(asyncio.gather(*futs), 5)
        assert [r["n"] for r in res[:5]] == [0, 1, 2, 3, 4]
        assert res[5] == {"n": 1, "verb": "t:back"}
        assert a.in_flight == 0 and b.in_flight == 0

    asyncio.run(main())


def test_errors_and_bad_lines():
    async def main():
        async def handler(msg):
            if msg.verb == "t:refuse":
                raise RemoteError("no-way", "refused")
            raise ValueError("boom")

        got = []

        async def sink(msg):
            return None

        a, b, ea, eb = pair(sink, handler)
        with pytest.raises(RemoteError) as e:
            await a.request("t:refuse")
        assert (e.value.code, e.value.message) == ("no-way", "refused")
        with pytest.raises(RemoteError) as e:
            await a.request("t:other", {"x": 1})
        assert e.value.code == "internal" and "boom" in e.value.message
        # a malformed line with a readable id is answered with an error for that id
        eb.on_data = lambda d: (got.append(d), b.feed(d))
        ea.on_data = got.append
        ea.write(b"#7 t:x {not json\n")
        await asyncio.sleep(0.05)
        assert any(g.startswith(b"#7 error") and b"bad-json" in g for g in got)

    asyncio.run(main())


def test_close_fails_pending_and_later_requests():
    async def main():
        async def never(msg):
            await asyncio.sleep(10)

        a, _b, _, _ = pair(never, never)
        fut = a.request("t:wait")
        await asyncio.sleep(0.01)
        a.close("gone")
        with pytest.raises(ConnectionLost, match="gone"):
            await fut
        with pytest.raises(ConnectionLost):
            await a.request("t:after")

    asyncio.run(main())


def test_request_raw_sends_the_encoded_payload():
    async def main():
        seen = []

        async def rec(msg):
            seen.append((msg.verb, msg.payload))
            return {"ok": True}

        a, _, _, _ = pair(rec, rec)
        assert await a.request_raw("t:batch", b'{"events":[1,2]}') == {"ok": True}
        assert seen == [("t:batch", {"events": [1, 2]})]

    asyncio.run(main())


def test_concurrent_verbs_are_served_beside_a_waiting_queued_request():
    async def main():
        loop = asyncio.get_running_loop()
        ea, eb = memory_pipe(loop.call_soon)
        order = []

        async def plugin_side(msg):
            if msg.verb == "t:command":  # queued; waits for ze, which needs t:decode from us
                order.append("command")
                return await b.request("t:decode-update", {})
            order.append("decode")
            return {"decoded": True}

        async def ze_side(msg):
            return await a.request("t:decode", {})  # asks the plugin back while it waits

        a = Mux(ea.write, ze_side, loop.create_future, loop.create_task)
        b = Mux(
            eb.write, plugin_side, loop.create_future, loop.create_task, concurrent=frozenset({"t:decode"})
        )
        ea.on_data, eb.on_data = a.feed, b.feed
        res = await asyncio.wait_for(a.request("t:command", {}), 5)
        assert res == {"decoded": True} and order == ["command", "decode"]

    asyncio.run(main())

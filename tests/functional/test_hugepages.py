"""The buffer pool with no hugepages reserved (anonymous memory, THP-advised) and with some reserved
through /proc/sys/vm/nr_hugepages (MAP_HUGETLB), for both backends; the sysctl is restored."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from ze._native import common, compiled, pure

NR = Path("/proc/sys/vm/nr_hugepages")
# without reserved hugepages: anonymous memory, advised MADV_HUGEPAGE unless THP is "never"
ANON = "thp" if common.thp_enabled() else "plain"
KEEPALIVE = b"\xff" * 16 + struct.pack("!HB", 19, 4)


def meminfo(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


@pytest.fixture
def nr_hugepages():
    if os.geteuid() != 0:
        pytest.skip("reserving hugepages needs root")
    before = NR.read_text().strip()

    def reserve(n: int) -> int:
        NR.write_text(str(n))
        return int(NR.read_text())

    try:
        yield reserve
    finally:
        NR.write_text(before)


def exercise(pool) -> None:
    """Every buffer frames messages and keeps its own bytes."""
    bufs = [pool.acquire() for _ in range(pool.count)]
    for i, b in enumerate(bufs):
        body = bytes([0, 0, 0, 0]) + bytes([i]) * i
        r = (compiled if isinstance(b, compiled.Buffer) else pure).feed_frames(
            b, KEEPALIVE + b"\xff" * 16 + struct.pack("!HB", 23 + i, 2) + body
        )
        assert r.frames == [0, 19, 4, 19, 23 + i, 2] and r.error is None
    for i, b in enumerate(bufs):
        assert bytes(b.view[19 + 23 : 19 + 23 + i]) == bytes([i]) * i
        pool.release(b)
    assert pool.available == pool.count


@pytest.mark.parametrize("impl", [compiled, pure], ids=["cffi", "pure"])
def test_pool_without_reserved_hugepages(impl, nr_hugepages):
    assert nr_hugepages(0) == 0
    pool = impl.BufferPool(buffer_size=256 * 1024, count=8)
    assert pool.kind == ANON
    exercise(pool)
    plain = impl.BufferPool(count=2, hugepages=False)
    assert plain.kind == ANON
    exercise(plain)


@pytest.mark.parametrize("impl", [compiled, pure], ids=["cffi", "pure"])
def test_pool_with_reserved_hugepages(impl, nr_hugepages):
    assert nr_hugepages(4) >= 2, "could not reserve 2 hugepages"
    free_before = meminfo("HugePages_Free")
    pool = impl.BufferPool(buffer_size=256 * 1024, count=8)  # 2 MiB: one hugepage
    assert pool.kind == "hugetlb"
    exercise(pool)
    assert meminfo("HugePages_Free") == free_before - 1  # touched, so taken from the pool
    # the pool grows by whole chunks when empty, still on hugepages
    held = [pool.acquire() for _ in range(9)]
    assert pool.kind == "hugetlb" and len({id(b) for b in held}) == 9
    # a pool too big for what is left falls back to anonymous memory
    big = impl.BufferPool(buffer_size=1024 * 1024, count=8)
    assert big.kind == ANON
    exercise(big)

"""The typed face of the C helper (csrc/, built by cffi at `pip install`), layer L0.5.

Hugepage-backed receive buffers (BufferPool), framed socket reads (read_frames, feed_frames), NLRI
walks into flat int lists (walk_nlri), and socket security (set_tcp_md5 RFC 2385, set_gtsm RFC 5082).
The compiled backend is used when built; ze._native.pure is its twin with the same signatures and
results, used when the build is absent or ZE_NATIVE=pure is set. BACKEND says which ("cffi"/"pure").

Contracts, in short (details in ze._native.common and the docstrings):
- BufferPool(buffer_size=256 KiB, count=8, hugepages=True): .kind is "hugetlb" (MAP_HUGETLB from the
  reserved pool), "thp" (anonymous memory advised MADV_HUGEPAGE) or "plain"; acquire()/release(buf)
  reuse buffers, the pool grows by whole chunks. Buffer.view is a memoryview of the whole buffer.
- read_frames(fd_or_socket, buffer, extended=False) -> ReadResult(frames, status, nread, error):
  frames is a flat list of (offset, length, type) per whole message, offsets into buffer.view, valid
  until the next call on that buffer (a partial tail may then move to the start). status is DATA,
  AGAIN (nothing to read) or EOF. A bad header is *returned* as error, a WireError carrying the
  RFC 4271 6.1 NOTIFICATION (code 1; subcode 1 marker, 2 length with the length as data, 3 type with
  the type byte as data) and the stream offset; framing stops there. Socket errors raise OSError.
  feed_frames(buffer, data, extended=False) does the same for bytes that came some other way.
- walk_nlri(data, start, end, afi, addpath, base=0) -> list[int]: ipv4 (path_id, length, value)
  triples, ipv6 (path_id, length, hi, lo) quadruples (two u64 halves: no big-int building in the
  loop; value = hi << 64 | lo); path_id 0 without ADD-PATH. Overruns raise WireError UPDATE 3/10
  with the offset, exactly as ze.bgp.wire.nlri.prefix.walk does. count_nlri(...) -> int: the same
  walk and errors, only the number of prefixes (no list built).
- set_tcp_md5(sock, peer_address, key, prefix_len=None, ifindex=None) and set_gtsm(sock, hops=1)
  raise SocketOptionError (an OSError naming the option, with errno) when the kernel refuses.
"""

from __future__ import annotations

import os

from ze._native.common import AGAIN, DATA, EOF, ReadResult, SocketOptionError

if os.environ.get("ZE_NATIVE") == "pure":
    from ze._native import pure as _impl
else:
    try:
        from ze._native import compiled as _impl
    except ImportError:  # the build is absent: the twin stands in
        from ze._native import pure as _impl

BACKEND: str = _impl.BACKEND
Buffer = _impl.Buffer
BufferPool = _impl.BufferPool
read_frames = _impl.read_frames
feed_frames = _impl.feed_frames
walk_nlri = _impl.walk_nlri
count_nlri = _impl.count_nlri
set_tcp_md5 = _impl.set_tcp_md5
set_gtsm = _impl.set_gtsm

__all__ = [
    "AGAIN",
    "BACKEND",
    "DATA",
    "EOF",
    "Buffer",
    "BufferPool",
    "ReadResult",
    "count_nlri",
    "SocketOptionError",
    "feed_frames",
    "read_frames",
    "set_gtsm",
    "set_tcp_md5",
    "walk_nlri",
]

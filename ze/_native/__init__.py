"""The typed face of the C helper (csrc/, built by cffi at `pip install`), layer L0.5.

Hugepage-backed receive buffers (BufferPool), framed socket reads (read_frames, feed_frames), NLRI
walks into flat int lists (walk_nlri), and socket security (set_tcp_md5 RFC 2385, set_gtsm RFC 5082).
The compiled backend is used when built; ze._native.pure is its twin with the same signatures and
results, used when the build is absent or ZE_NATIVE=pure is set. BACKEND says which ("cffi"/"pure").
Contracts (error reporting, result layouts) are in ze._native.common and the functions' docstrings.
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
    "SocketOptionError",
    "feed_frames",
    "read_frames",
    "set_gtsm",
    "set_tcp_md5",
    "walk_nlri",
]

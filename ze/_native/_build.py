"""cffi builder (API, out-of-line mode) for the C helper in csrc/; setup.py names it in cffi_modules.

Importing this module only declares the build; `pip install` compiles ze._native._zec from it.
"""

from __future__ import annotations

import os
from pathlib import Path

from cffi import FFI

_ROOT = Path(__file__).resolve().parents[2]
_CSRC = _ROOT / "csrc"

CDEF = """
typedef struct {
    uint8_t *base;
    uint32_t cap;
    uint32_t start;
    uint32_t end;
    uint64_t consumed;
    int status;
    int pending_errno;
    uint32_t nread;
    int err_code;
    int err_subcode;
    uint64_t err_offset;
    uint32_t err_value;
    int err_len;
    int err_type;
} zec_buf;

typedef struct {
    int kind;
    uint64_t offset;
    int plen;
} zec_nlri_err;

void *zec_map(size_t len, int allow_hugetlb, int *kind);
int zec_unmap(void *p, size_t len);
int zec_frame(zec_buf *b, int extended, uint32_t *out, uint32_t maxout);
int zec_read_frames(int fd, zec_buf *b, int extended, uint32_t *out, uint32_t maxout);
int zec_feed_frames(zec_buf *b, const uint8_t *data, uint32_t len, int extended, uint32_t *out,
                    uint32_t maxout);
int64_t zec_walk_nlri(const uint8_t *data, size_t start, size_t end, int ipv6, int addpath, uint64_t *out,
                      zec_nlri_err *err);
int zec_tcp_md5(int fd, int family, const uint8_t *addr, int prefix_len, int ifindex, const uint8_t *key,
                int keylen, int *option);
int zec_gtsm(int fd, int family, int hops, int *option);
"""


def _rel(path: Path) -> str:
    # setuptools wants source paths relative to the project directory (the build's cwd)
    return os.path.relpath(path)


ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "ze._native._zec",
    '#include "zec.h"\n',
    sources=[_rel(p) for p in sorted(_CSRC.glob("*.c"))],
    include_dirs=[_rel(_CSRC)],
    extra_compile_args=["-O2", "-Wall"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)

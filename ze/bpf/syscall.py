"""The bpf(2) system call through ctypes: open pinned objects and read and write their maps.

This is all the daemon needs to run the counters after the loader child has pinned them, so
its memory carries no bcc or LLVM. Layouts follow include/uapi/linux/bpf.h (union bpf_attr).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct

_NR_BPF = {"x86_64": 321, "aarch64": 280, "armv7l": 386, "ppc64le": 361, "s390x": 351}

MAP_CREATE = 0
MAP_LOOKUP_ELEM = 1
MAP_UPDATE_ELEM = 2
MAP_DELETE_ELEM = 3
MAP_GET_NEXT_KEY = 4
OBJ_PIN = 6
OBJ_GET = 7
OBJ_GET_INFO_BY_FD = 15
MAP_LOOKUP_BATCH = 24
MAP_UPDATE_BATCH = 26
MAP_DELETE_BATCH = 27

ANY = 0  # update flags
NOEXIST = 1
EXIST = 2

MAP_TYPES = {1: "hash", 2: "array", 5: "percpu_hash", 6: "percpu_array", 9: "lru_hash",
             10: "lru_percpu_hash", 11: "lpm_trie"}  # fmt: skip
PERCPU_TYPES = frozenset({5, 6, 10})

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.syscall.restype = ctypes.c_long
_ATTR_SIZE = 128  # bytes of bpf_attr we pass; the kernel checks unused tail bytes are zero


class BpfError(OSError):
    """A failed bpf(2) call: errno plus what was being done."""


def _nr() -> int:
    machine = os.uname().machine
    if machine not in _NR_BPF:
        raise BpfError(errno.ENOSYS, f"bpf(2) syscall number unknown on {machine}")
    return _NR_BPF[machine]


_NR = _nr()


def bpf(cmd: int, attr: ctypes.Array, what: str) -> int:
    """Call bpf(cmd, attr); raise BpfError naming `what` on failure."""
    r = _libc.syscall(_NR, ctypes.c_int(cmd), attr, ctypes.c_uint(len(attr)))
    if r < 0:
        e = ctypes.get_errno()
        raise BpfError(e, f"{what}: {os.strerror(e)}")
    return r


def _attr() -> ctypes.Array:
    return ctypes.create_string_buffer(_ATTR_SIZE)


def _addr(buf: ctypes.Array | None) -> int:
    return 0 if buf is None else ctypes.addressof(buf)


def map_create(
    map_type: int, key_size: int, value_size: int, max_entries: int, flags: int = 0, name: str = ""
) -> int:
    """BPF_MAP_CREATE (the loader child's bcc makes the real maps; this serves tests and tools)."""
    a = _attr()
    struct.pack_into("=5I", a, 0, map_type, key_size, value_size, max_entries, flags)
    struct.pack_into("16s", a, 28, name.encode()[:15])
    return bpf(MAP_CREATE, a, f"create map {name or map_type}")


def obj_get(path: str) -> int:
    """BPF_OBJ_GET: a new fd for the object pinned at path."""
    p = ctypes.create_string_buffer(os.fsencode(path))
    a = _attr()
    struct.pack_into("=QII", a, 0, _addr(p), 0, 0)
    return bpf(OBJ_GET, a, f"open pinned {path}")


def obj_pin(fd: int, path: str) -> None:
    """BPF_OBJ_PIN: pin the object behind fd at path (in a bpf filesystem)."""
    p = ctypes.create_string_buffer(os.fsencode(path))
    a = _attr()
    struct.pack_into("=QII", a, 0, _addr(p), fd, 0)
    bpf(OBJ_PIN, a, f"pin {path}")


def map_info(fd: int) -> dict[str, int | str]:
    """BPF_OBJ_GET_INFO_BY_FD for a map: type, id, key-size, value-size, max-entries, flags, name."""
    info = ctypes.create_string_buffer(88)
    a = _attr()
    struct.pack_into("=IIQ", a, 0, fd, len(info), _addr(info))
    bpf(OBJ_GET_INFO_BY_FD, a, "map info")
    mtype, mid, ksz, vsz, maxe, flags = struct.unpack_from("=6I", info, 0)
    name = info.raw[24:40].split(b"\0", 1)[0].decode()
    return {"type": mtype, "id": mid, "key-size": ksz, "value-size": vsz, "max-entries": maxe,
            "flags": flags, "name": name}  # fmt: skip


def possible_cpus() -> int:
    """How many slots a per-CPU map value has: the count of possible CPUs (e.g. "0-3" -> 4)."""
    with open("/sys/devices/system/cpu/possible", encoding="ascii") as f:
        text = f.read().strip()
    n = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        n = max(n, int(hi or lo) + 1)
    return n


class Map:
    """A pinned map opened by path; values of per-CPU maps are ncpu slots of round8(value-size)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = obj_get(path)
        info = map_info(self.fd)
        self.type = int(info["type"])
        self.key_size = int(info["key-size"])
        self.value_size = int(info["value-size"])
        self.max_entries = int(info["max-entries"])
        self.percpu = self.type in PERCPU_TYPES
        self.ncpu = possible_cpus() if self.percpu else 1
        self.slot = (self.value_size + 7) & ~7 if self.percpu else self.value_size
        self.full_value = self.slot * self.ncpu
        self._batch_ok: bool | None = None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Map:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _elem(self, cmd: int, key: bytes, value: ctypes.Array | None, flags: int, what: str) -> None:
        k = ctypes.create_string_buffer(key, self.key_size)
        a = _attr()
        struct.pack_into("=IIQQQ", a, 0, self.fd, 0, _addr(k), _addr(value), flags)
        bpf(cmd, a, what)

    def lookup(self, key: bytes) -> bytes | None:
        """The raw value (all CPU slots for a per-CPU map), or None if the key is absent."""
        v = ctypes.create_string_buffer(self.full_value)
        try:
            self._elem(MAP_LOOKUP_ELEM, key, v, 0, f"lookup in {self.path}")
        except BpfError as e:
            if e.errno == errno.ENOENT:
                return None
            raise
        return v.raw

    def update(self, key: bytes, value: bytes, flags: int = ANY) -> None:
        v = ctypes.create_string_buffer(value, self.full_value)
        self._elem(MAP_UPDATE_ELEM, key, v, flags, f"update {self.path}")

    def delete(self, key: bytes) -> bool:
        """Delete key; False if it was not there."""
        try:
            self._elem(MAP_DELETE_ELEM, key, None, 0, f"delete in {self.path}")
        except BpfError as e:
            if e.errno == errno.ENOENT:
                return False
            raise
        return True

    def keys(self) -> list[bytes]:
        """Every key, by BPF_MAP_GET_NEXT_KEY from the start."""
        out: list[bytes] = []
        nxt = ctypes.create_string_buffer(self.key_size)
        cur: bytes | None = None
        while True:
            k = None if cur is None else ctypes.create_string_buffer(cur, self.key_size)
            a = _attr()
            struct.pack_into("=IIQQ", a, 0, self.fd, 0, _addr(k), _addr(nxt))
            try:
                bpf(MAP_GET_NEXT_KEY, a, f"walk {self.path}")
            except BpfError as e:
                if e.errno == errno.ENOENT:
                    return out
                raise
            cur = nxt.raw
            out.append(cur)
            if len(out) > self.max_entries + 1:  # a map changing under us must not loop forever
                return out

    def _batch(self, cmd: int, keys: bytes, values: bytes | None, count: int, what: str) -> int:
        kb = ctypes.create_string_buffer(keys, len(keys))
        vb = None if values is None else ctypes.create_string_buffer(values, len(values))
        a = _attr()
        struct.pack_into("=QQQQIIQQ", a, 0, 0, 0, _addr(kb), _addr(vb), count, self.fd, 0, 0)
        try:
            bpf(cmd, a, what)
        except BpfError as e:
            done = struct.unpack_from("=I", a, 32)[0]
            e.done = done  # type: ignore[attr-defined]
            raise
        return struct.unpack_from("=I", a, 32)[0]

    def update_batch(self, keys: bytes, values: bytes, count: int) -> int:
        """Write `count` packed keys and values in one BPF_MAP_UPDATE_BATCH where the kernel supports it
        for this map type, else one BPF_MAP_UPDATE_ELEM each. Returns the number of syscalls made."""
        if self._batch_ok is not False and count:
            try:
                self._batch(MAP_UPDATE_BATCH, keys, values, count, f"batch update {self.path}")
                self._batch_ok = True
                return 1
            except BpfError as e:
                if e.errno not in {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP} or self._batch_ok:
                    raise
                self._batch_ok = False
        ks, vs = self.key_size, self.full_value
        for i in range(count):
            self.update(keys[i * ks : (i + 1) * ks], values[i * vs : (i + 1) * vs])
        return count

    def delete_batch(self, keys: bytes, count: int) -> int:
        """Delete `count` packed keys; keys already absent are skipped. Returns the syscalls made."""
        ks = self.key_size
        calls, pos = 0, 0
        while pos < count:
            if self._batch_ok is False:
                self.delete(keys[pos * ks : (pos + 1) * ks])
                calls, pos = calls + 1, pos + 1
                continue
            calls += 1
            try:
                self._batch(
                    MAP_DELETE_BATCH, keys[pos * ks :], None, count - pos, f"batch delete {self.path}"
                )
                return calls
            except BpfError as e:
                if e.errno == errno.ENOENT:  # stops at the first absent key: skip it, go on
                    pos += e.done + 1  # type: ignore[attr-defined]
                elif e.errno in {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP} and not self._batch_ok:
                    self._batch_ok = False
                else:
                    raise
        return calls

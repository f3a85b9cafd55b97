"""ze.bpf.syscall against the kernel, with maps made by bpf(2) itself (no bcc): pin, open, element
and batch operations, per-CPU layout, and the loader replacing a pinned map of the wrong shape."""

from __future__ import annotations

import errno
import os
import struct

import pytest

from ze.bgp.wire.nlri.prefix import Prefix
from ze.bpf import loader, mapsync, syscall

pytestmark = pytest.mark.root

if os.geteuid() != 0:
    pytest.skip("bpf(2) needs root", allow_module_level=True)

LPM_TRIE, ARRAY, PERCPU_ARRAY, NO_PREALLOC = 11, 2, 6, 1


@pytest.fixture
def pin_dir():
    assert loader.ensure_bpffs() == ""
    d = f"{loader.BPFFS}/ze-sys-{os.getpid()}"
    os.makedirs(d, exist_ok=True)
    try:
        yield d
    finally:
        for name in os.listdir(d):
            os.unlink(f"{d}/{name}")
        os.rmdir(d)


def pinned(pin_dir: str, name: str, *shape: int, flags: int = 0) -> syscall.Map:
    fd = syscall.map_create(*shape, flags=flags, name=name)
    try:
        syscall.obj_pin(fd, f"{pin_dir}/{name}")
    finally:
        os.close(fd)
    return syscall.Map(f"{pin_dir}/{name}")


def test_lpm_trie_elements_batches_and_walk(pin_dir):
    v6 = pinned(pin_dir, "ze_v6", LPM_TRIE, 20, 24, 1000, flags=NO_PREALLOC)
    with pinned(pin_dir, "ze_v4", LPM_TRIE, 8, 24, 1000, flags=NO_PREALLOC) as m, v6:
        assert (m.type, m.key_size, m.value_size, m.max_entries, m.percpu) == (LPM_TRIE, 8, 24, 1000, False)
        routes = mapsync.RouteMaps(m, v6)
        pfx = [Prefix.parse(f"10.{i}.0.0/16") for i in range(10)]
        st = routes.apply([(p, i + 1, None) for i, p in enumerate(pfx)])
        assert st.to_dict() == {"updated": 10, "withdrawn": 0, "syscalls": 1}  # one batch syscall
        assert sorted(m.keys()) == sorted(mapsync.key(p) for p in pfx)
        # LPM semantics: a /32 lookup finds its /16.
        host = struct.pack("=I4s", 32, bytes([10, 3, 9, 9]))
        assert mapsync.decode_route(m.lookup(host)) == (4, 16, None)
        # Withdraw two, one of them twice and one never there: absent keys are skipped.
        st = routes.apply([(pfx[1], 0, None), (Prefix.parse("10.99.0.0/16"), 0, None), (pfx[2], 0, None)])
        assert (st.withdrawn, len(m.keys())) == (3, 8)
        assert m.lookup(mapsync.key(pfx[1])) is None
        assert m.delete(mapsync.key(pfx[1])) is False
        # Resync to three routes: the rest go.
        st = routes.resync([(p, 7, None) for p in pfx[:3]])
        assert sorted(m.keys()) == sorted(mapsync.key(p) for p in pfx[:3])
        assert {mapsync.decode_route(m.lookup(k))[0] for k in m.keys()} == {7}
        assert sorted(routes.routes()) == [(p, 7, None) for p in pfx[:3]]
        assert routes.count() == {"ipv4": 3, "ipv6": 0}


def test_percpu_values_are_one_slot_per_possible_cpu(pin_dir):
    with pinned(pin_dir, "ze_peer", PERCPU_ARRAY, 4, 16, 8) as m:
        n = syscall.possible_cpus()
        assert (m.percpu, m.ncpu, m.slot, m.full_value) == (True, n, 16, 16 * n)
        value = b"".join(struct.pack("=QQ", cpu + 1, 100 * (cpu + 1)) for cpu in range(n))
        m.update(struct.pack("=I", 3), value)
        assert m.lookup(struct.pack("=I", 3)) == value
        with pytest.raises(syscall.BpfError) as e:
            m.update(struct.pack("=I", 99), value)  # past max_entries
        assert e.value.errno == errno.E2BIG


def test_open_missing_pin_names_the_path(pin_dir):
    with pytest.raises(syscall.BpfError, match=f"open pinned {pin_dir}/nothing: No such file or directory"):
        syscall.Map(f"{pin_dir}/nothing")


def test_loader_replaces_a_pinned_map_of_another_shape(pin_dir):
    pinned(pin_dir, "ze_peer", PERCPU_ARRAY, 4, 8, 16).close()  # an older, smaller layout
    pinned(pin_dir, "ze_misc", PERCPU_ARRAY, 4, 16, 2).close()  # the current layout
    assert loader.drop_misshapen(pin_dir) == ["ze_peer"]
    assert sorted(os.listdir(pin_dir)) == ["ze_misc"]

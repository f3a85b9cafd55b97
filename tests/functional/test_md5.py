"""TCP-MD5 (RFC 2385) for real: loopback sockets with matching, wrong and missing keys, and a BIRD 2
peer configured with a password that sends us its OPEN."""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import time
from contextlib import closing

import pytest

from ze._native import compiled, pure

KEY = "s3cret-md5"
WAIT = 0.8  # seconds a refused (unsigned or badly signed) SYN is given to establish


@pytest.fixture(params=[compiled, pure], ids=["cffi", "pure"])
def impl(request):
    return request.param


def listener(impl, family: int, host: str, peer: str, key: str | None) -> socket.socket:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if key is not None:
        impl.set_tcp_md5(s, peer, key)
    s.bind((host, 0))
    s.listen(4)
    return s


def connects(impl, family: int, host: str, port: int, server: str, key: str | None) -> bool:
    with closing(socket.socket(family, socket.SOCK_STREAM)) as c:
        if key is not None:
            impl.set_tcp_md5(c, server, key)
        c.settimeout(WAIT)
        try:
            c.connect((host, port))
        except TimeoutError:
            return False
        c.sendall(b"hello")
        return True


@pytest.mark.parametrize(("family", "addr"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_matching_keys_connect(impl, family, addr):
    with closing(listener(impl, family, addr, addr, KEY)) as lst:
        port = lst.getsockname()[1]
        assert connects(impl, family, addr, port, addr, KEY)
        lst.settimeout(2)
        conn, peer = lst.accept()
        with conn:
            assert conn.recv(5) == b"hello"
            assert peer[0] == addr


@pytest.mark.parametrize(("family", "addr"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_wrong_or_missing_key_does_not_establish(family, addr):
    impl = compiled
    with closing(listener(impl, family, addr, addr, KEY)) as lst:
        port = lst.getsockname()[1]
        assert not connects(impl, family, addr, port, addr, "not-the-key")
        assert not connects(impl, family, addr, port, addr, None)
        # and the other way: a signed SYN to a listener that has no key for us
    with closing(listener(impl, family, addr, addr, None)) as lst:
        assert not connects(impl, family, addr, lst.getsockname()[1], addr, KEY)


def test_removed_key_lets_unsigned_peer_in(impl):
    with closing(listener(impl, socket.AF_INET, "127.0.0.1", "127.0.0.1", KEY)) as lst:
        impl.set_tcp_md5(lst, "127.0.0.1", "")  # an empty key removes it
        assert connects(impl, socket.AF_INET, "127.0.0.1", lst.getsockname()[1], "127.0.0.1", None)


def test_prefix_key_on_listener(impl):
    # TCP_MD5SIG_EXT: one key for a whole prefix of peers
    with closing(socket.socket()) as lst:
        impl.set_tcp_md5(lst, "127.0.0.0", KEY, prefix_len=8)
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        with closing(socket.socket()) as c:
            c.bind(("127.0.0.9", 0))
            impl.set_tcp_md5(c, "127.0.0.1", KEY)
            c.settimeout(2)
            c.connect(lst.getsockname())


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BIRD_CONF = """
router id 192.0.2.1;
protocol device {{}}
protocol bgp zetest {{
    local 127.0.0.1 port {port} as 65001;
    neighbor 127.0.0.2 port {peer_port} as 65002;
    multihop;
    connect delay time 1;
    password "{key}";
    ipv4 {{ import none; export none; }};
}}
"""


@pytest.fixture
def bird(tmp_path):
    exe = shutil.which("bird") or "/usr/sbin/bird"
    assert os.path.exists(exe), "BIRD 2 missing: scripts/bootstrap installs the Debian package bird2"
    if os.geteuid() != 0:
        pytest.skip("BIRD needs root to bind its sockets with TCP-MD5")
    port = _free_port()
    conf = tmp_path / "bird.conf"
    conf.write_text(BIRD_CONF.format(port=port, peer_port=_free_port(), key=KEY))
    log = open(tmp_path / "bird.log", "wb")
    proc = subprocess.Popen(
        [exe, "-f", "-c", str(conf), "-s", str(tmp_path / "bird.ctl")], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield port, proc
    finally:
        proc.terminate()  # by PID
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def _bird_socket(impl, port: int, key: str, deadline: float) -> socket.socket:
    """Connect from 127.0.0.2 to BIRD, retrying while it starts: refused until it listens, then
    dropped until the protocol has installed the key on its listening socket."""
    while True:
        c = socket.socket()
        c.bind(("127.0.0.2", 0))
        impl.set_tcp_md5(c, "127.0.0.1", key)
        c.settimeout(WAIT)
        try:
            c.connect(("127.0.0.1", port))
            return c
        except (ConnectionRefusedError, TimeoutError):
            c.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        except BaseException:
            c.close()
            raise


def test_bird_peer_with_password_sends_open(impl, bird):
    port, proc = bird
    with closing(_bird_socket(impl, port, KEY, time.monotonic() + 10)) as c:
        c.setblocking(False)
        buf = impl.BufferPool(count=1).acquire()
        deadline = time.monotonic() + 10
        frames: list[int] = []
        while not frames and time.monotonic() < deadline:
            select.select([c], [], [], 0.2)
            r = impl.read_frames(c, buf)
            assert r.error is None and r.status != impl.common.EOF
            frames = r.frames
        assert frames[2] == 1, "BIRD's first message is an OPEN"
        off, length = frames[0], frames[1]
        opened = bytes(buf.view[off : off + length])
    # version 4, my AS 65001, BGP identifier 192.0.2.1 (the router id in the config)
    assert opened[19] == 4
    assert int.from_bytes(opened[20:22], "big") == 65001
    assert opened[24:28] == bytes([192, 0, 2, 1])
    assert proc.poll() is None


def test_bird_refuses_wrong_password(bird):
    port, _ = bird
    # the right key first, so BIRD is known to be listening
    _bird_socket(compiled, port, KEY, time.monotonic() + 10).close()
    with closing(socket.socket()) as c:
        c.bind(("127.0.0.2", 0))
        compiled.set_tcp_md5(c, "127.0.0.1", "wrong")
        c.settimeout(WAIT)
        with pytest.raises(TimeoutError):
            c.connect(("127.0.0.1", port))


def test_ipv4_peer_on_dual_stack_listener(impl):
    # ze listens on [::]; an IPv4 peer's key goes in v4-mapped
    with closing(socket.socket(socket.AF_INET6, socket.SOCK_STREAM)) as lst:
        lst.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        impl.set_tcp_md5(lst, "127.0.0.1", KEY)
        lst.bind(("::", 0))
        lst.listen(1)
        port = lst.getsockname()[1]
        assert connects(impl, socket.AF_INET, "127.0.0.1", port, "127.0.0.1", KEY)
        assert not connects(impl, socket.AF_INET, "127.0.0.1", port, "127.0.0.1", None)

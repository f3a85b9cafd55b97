from __future__ import annotations

import errno
import socket

import pytest

from ze._native import SocketOptionError

IP_MINTTL = 21
IPV6_MINHOPCOUNT = 73


def test_gtsm_sets_ttl_and_minimum_ipv4(impl):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        impl.set_gtsm(s, hops=1)
        assert s.getsockopt(socket.IPPROTO_IP, socket.IP_TTL) == 255
        assert s.getsockopt(socket.IPPROTO_IP, IP_MINTTL) == 255
        impl.set_gtsm(s.fileno(), hops=3)
        assert s.getsockopt(socket.IPPROTO_IP, IP_MINTTL) == 253
        impl.set_gtsm(s, hops=0)
        assert s.getsockopt(socket.IPPROTO_IP, IP_MINTTL) == 0
        assert s.getsockopt(socket.IPPROTO_IP, socket.IP_TTL) == 64


def test_gtsm_sets_hops_and_minimum_ipv6(impl):
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        impl.set_gtsm(s, hops=2)
        assert s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS) == 255
        assert s.getsockopt(socket.IPPROTO_IPV6, IPV6_MINHOPCOUNT) == 254
        # IPv4-mapped peers on the same socket
        assert s.getsockopt(socket.IPPROTO_IP, IP_MINTTL) == 254


def test_gtsm_error_names_option_and_errno(impl):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s, pytest.raises(SocketOptionError) as e:
        impl.set_gtsm(s, hops=1)
    assert (e.value.option, e.value.errno) == ("IP_TTL", errno.EOPNOTSUPP)
    assert str(e.value) == f"setsockopt IP_TTL failed: [Errno {errno.EOPNOTSUPP}] Operation not supported"


def test_gtsm_hops_range(impl):
    with socket.socket() as s, pytest.raises(SocketOptionError) as e:
        impl.set_gtsm(s, hops=256)
    assert (e.value.option, e.value.errno) == ("IP_MINTTL", errno.EINVAL)


def test_md5_remove_missing_key_is_enoent(impl):
    with socket.socket() as s:
        impl.set_tcp_md5(s, "127.0.0.1", "secret")
        impl.set_tcp_md5(s, "127.0.0.1", b"")  # removal
        with pytest.raises(SocketOptionError) as e:
            impl.set_tcp_md5(s, "127.0.0.1", "")
    assert (e.value.option, e.value.errno) == ("TCP_MD5SIG", errno.ENOENT)


def test_md5_ext_prefix_and_ifindex(impl):
    with socket.socket(socket.AF_INET6) as s:
        impl.set_tcp_md5(s, "2001:db8::", "k", prefix_len=32)
        impl.set_tcp_md5(s, "192.0.2.0", "k", prefix_len=24)  # v4-mapped on an IPv6 socket
        impl.set_tcp_md5(s, "::1", "k", ifindex=0)  # 0: any interface
        # the kernel binds keys only to L3 master (VRF) devices; lo is not one
        with pytest.raises(SocketOptionError) as e:
            impl.set_tcp_md5(s, "::1", "k", ifindex=socket.if_nametoindex("lo"))
    assert (e.value.option, e.value.errno) == ("TCP_MD5SIG_EXT", errno.EINVAL)


def test_md5_on_udp_fails(impl):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, pytest.raises(SocketOptionError) as e:
        impl.set_tcp_md5(s, "127.0.0.1", "k")
    assert e.value.option == "TCP_MD5SIG"
    assert e.value.errno in (errno.ENOPROTOOPT, errno.EOPNOTSUPP)


def test_md5_key_too_long(impl):
    with socket.socket() as s, pytest.raises(ValueError):
        impl.set_tcp_md5(s, "127.0.0.1", "x" * 81)

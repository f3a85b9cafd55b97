"""The fib-kernel feature, as data for the host (imports no pyroute2)."""

from ze.plugin.protocol.manifest import Registration

PLUGIN = Registration(
    name="fib-kernel",
    description="Best routes into a Linux routing table: batched rtnetlink, nexthop objects and groups, "
    "protocol 186, stale routes kept across a restart, a monitor that re-asserts them",
    entry="ze.fib.kernel.plugin:main",
    families=("ipv4/unicast", "ipv6/unicast"),
    requires=("pyroute2",),
    # configured under `fib { kernel { ... } }`; the `fib` root's YANG module ships with the
    # cross-protocol RIB feature that feeds this one
    config_roots=("fib",),
)

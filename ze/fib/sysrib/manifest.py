"""The sysrib feature, as data for the host."""

from ze.plugin.protocol.manifest import Registration

PLUGIN = Registration(
    name="sysrib",
    description="The best route per prefix across protocols (connected, static, eBGP, iBGP) by "
    "administrative distance; static routes from config; publishes the result for the FIB",
    entry="ze.fib.sysrib.service:main",
    families=("ipv4/unicast", "ipv6/unicast"),
    config_roots=("fib",),
    yang=("ze-fib.yang",),
)

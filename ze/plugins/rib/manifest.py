"""The bgp-rib feature, as data for the host (imports nothing of the feature)."""

from ze.plugin.protocol.manifest import Registration

PLUGIN = Registration(
    name="bgp-rib",
    description="BGP RIBs: Adj-RIB-In, Loc-RIB with RFC 4271 best-path selection and multipath, "
    "Adj-RIB-Out by export policy; publishes rib/best; `show rib` and `show peer NAME routes`",
    entry="ze.plugins.rib.plugin:main",
    rfcs=("4271", "4456", "4760", "7911", "1997", "6793"),
    families=("ipv4/unicast", "ipv6/unicast", "ipv4/multicast", "ipv6/multicast"),
    config_roots=("rib",),
    yang=("ze-rib.yang",),
)

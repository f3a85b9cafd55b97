"""bgp-rib: Adj-RIB-In, Loc-RIB and Adj-RIB-Out, best-path selection, export policy and queries."""

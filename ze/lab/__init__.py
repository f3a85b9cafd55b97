"""`ze lab`: a live lab in network namespaces (BIRD upstream, ze, a traffic sender, a sink)."""

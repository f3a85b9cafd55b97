"""eBPF forwarding counters: per-peer (and per-prefix) packets and bytes of the traffic that follows
each peer's routes. A feature: the host finds it through manifest.py; nothing outside this folder
names it."""

"""The bpf-counters feature, as data for the host (imports no bcc)."""

from ze.plugin.protocol.manifest import Registration

PLUGIN = Registration(
    name="bpf-counters",
    description="eBPF forwarding counters: packets and bytes per peer (and per prefix) of the traffic following its routes",
    entry="ze.bpf.plugin:run",
    # No `requires`: bcc is needed only by the loader child. Without it (or the kernel headers) the
    # plugin still runs, so the log and `ze show forwarding` say exactly why there are no counters.
    config_roots=("bpf",),
    yang=("ze-bpf.yang",),
)

"""BGP capabilities (RFC 5492): one module per capability, each exporting SPEC (a CapSpec)."""

"""The `ze` command line: one module per command domain."""

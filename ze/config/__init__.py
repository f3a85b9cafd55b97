"""Configuration: YANG schema, the JUNOS-like parser, resolution, datastore and diff (L2)."""

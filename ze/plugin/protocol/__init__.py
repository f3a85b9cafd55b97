"""L1 sans-I/O plugin protocol: the `#<id> <verb> [<json>]` line codec and message types."""

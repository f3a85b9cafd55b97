"""The control API (L3): the unix socket server and its client, same line protocol as plugins."""

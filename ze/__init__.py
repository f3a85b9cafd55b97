"""ze: a plugin-first, wire-first BGP daemon for Linux routers."""

__version__ = "0.1.0"

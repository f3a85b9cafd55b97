"""L1: the sans-I/O BGP-4 codec. A leaf: imports only ze.core and ze._native; no asyncio, socket or time."""

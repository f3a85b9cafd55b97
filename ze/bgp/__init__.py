"""The BGP protocol: wire codec (L1), sans-I/O session (L2), asyncio speaker (L3), hub bridge (L4)."""

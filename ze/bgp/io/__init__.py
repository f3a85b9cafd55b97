"""The speaker's asyncio edge: sockets prepared by ze._native (TCP-MD5, GTSM), reads framed by the
C helper, writes with back-pressure (transport), and the passive side (listener)."""

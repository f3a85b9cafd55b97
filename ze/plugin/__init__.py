"""Plugins: the line protocol (protocol/), the SDK for authors (sdk/) and the engine side (host/)."""

"""The engine side of plugins: spawn, TLS connect-back + auth, five stages, MuxConn, bridge,
restart policy, fast hooks (engine.PluginHost is the entry)."""

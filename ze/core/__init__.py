"""L0: stdlib-only building blocks shared by every layer (buffers, families, clock, registry, errors, log)."""

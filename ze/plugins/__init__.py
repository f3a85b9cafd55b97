"""Feature packages, one per folder (discovered through their manifest.py; nothing imports them by name)."""

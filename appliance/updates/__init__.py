"""Box updater (FR-703): install a release beside the running one, switch, health-gate it,
keep it or switch back by itself; every step survives a power cut (docs/releases.md)."""

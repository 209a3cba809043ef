"""Staff on this box: the synced staff list, offline PIN login with lockout, sessions, roles."""

"""Incidents (FR-702): DETECT → CLASSIFY → RESPOND → RESOLVE with actors, times and evidence."""

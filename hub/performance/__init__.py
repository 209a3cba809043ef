"""Cashier performance foundations (FR-600 / REP-T-08), derived at ingest."""

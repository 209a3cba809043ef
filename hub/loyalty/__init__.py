"""Loyalty points (FR-401, FR-402): the immutable ledger, ingest of box facts, tiers, expiry."""

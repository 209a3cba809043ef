"""The box stock ledger: append-only movements, on hand derived from them."""

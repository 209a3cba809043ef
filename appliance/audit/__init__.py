"""The box's hash-chained, append-only audit log."""

"""Box operations: telemetry, /metrics, backups and the restore drill (FR-500, FR-700)."""

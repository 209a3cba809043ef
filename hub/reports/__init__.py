"""The report catalog (FR-600..602): facts and rollups kept at ingest, REP-T and REP-O
queries, filters, budgets, exports and the portal's report pages and dashboard."""

"""Read-only forecasts (FR-P7-1005..1008): stock-out, hourly sales, anomalies, reorder."""

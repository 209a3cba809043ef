"""The hub's own Prometheus instruments (FR-500, NFR-006), observed where things happen.

Only prometheus-client here, so any module may import it. Under gunicorn the values live in
`PROMETHEUS_MULTIPROC_DIR` (one file per worker, summed at scrape time; hub/gunicorn_conf.py
wipes the directory at start and marks dead workers). Names follow the Prometheus
conventions: base units (seconds, bytes), `_total` for counters, no per-sale labels.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUEST_SECONDS = Histogram(
    "cfpos_hub_http_request_duration_seconds",
    "Hub HTTP request latency by route template and status class",
    ["method", "route", "status"],
)
INGEST_BATCH_SECONDS = Histogram(
    "cfpos_hub_ingest_batch_duration_seconds",
    "Time to apply one box event batch (decode, transaction, commit)",
)
INGEST_LAG_SECONDS = Histogram(
    "cfpos_hub_ingest_lag_seconds",
    "Hub receive time minus the occurred time of the oldest event of a batch",
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 24 * 3600),
)
INGEST_BATCHES = Counter(
    "cfpos_hub_ingest_batches_total", "Box batches handled by outcome", ["outcome"]
)
ALERT_DELIVERIES = Counter(
    "cfpos_hub_alert_deliveries_total", "Alert delivery attempts by outcome", ["outcome"]
)

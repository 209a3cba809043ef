"""Head-office hub: Flask/gunicorn web app, PostgreSQL (RLS) storage and the MQTT ingest worker."""

"""Box <-> hub over MQTT: the ingest worker (worker.py), batch apply (apply.py), quarantine,
reconciliation queue, sync health and heartbeats, box requests, and the down messages built and
published to boxes (downlink.py).
"""

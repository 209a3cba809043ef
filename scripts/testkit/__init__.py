"""What tests, benchmarks and chaos runs share: waiting, private brokers, crafted box traffic.

`scripts/` never imports from `tests/`; tests import these.
"""

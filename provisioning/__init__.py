"""Field-tech tooling: enrol a box with the hub (`enrol`), self-test its devices and broker
link (`selftest`), upload the commissioning report (`upload`). See
docs/runbook-provisioning.md; run as `python -m provisioning ...`.
"""

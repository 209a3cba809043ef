"""Field-tech tooling: enrol a box with the hub, write its config, self-test its devices.

The enrolment and self-test commands arrive with the store-hardware issue; until then a box
is enrolled by the hub's `seed-demo` and configured with a `firmware_config.BoxConfig` file.
"""

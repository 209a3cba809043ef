"""Customers and loyalty at the till: the synced card directory, attach by card, enrolment,
online search through the hub, earn preview and points redemption (FR-400, FR-401)."""

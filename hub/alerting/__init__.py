"""Alerting (FR-501): deduplicated alerts routed per tenant and severity, sent exactly once."""

"""Integrations (FR-P7-1009..1013): integrations, kill switch, tokens, business webhooks."""

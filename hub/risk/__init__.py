"""Risk (FR-701): rule-based scores from synced data and risk modes per tenant, branch, box."""

"""Configuration and proof: versioned tenant config (branding, tax, pricing, risk), feature flags,
down-message version counters, the hash-chained audit log and the synced box audit chains.
"""

"""Compliance (FR-P7-1014..1018): legal holds, customer PII export and erasure, exports."""

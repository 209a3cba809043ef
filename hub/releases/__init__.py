"""Release governance: artifacts and promotion, staged box rollouts, smoke runs, the gate's
two-person GO/NO-GO decisions (FR-703, FR-804, FR-900, FR-901)."""

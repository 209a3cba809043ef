"""The stock ledger (immutable movements, running balances), counts and adjustments, reorder
points and stock alerts, transfers between branches, and stock events from boxes.
"""

"""Signed pricing policies (promotions, discounts) with their per-tenant signing keys, and the
cacheable price preview.
"""

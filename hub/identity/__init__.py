"""Who is who: tenants, branches, hub users and their sessions, API tokens, login limits, and the
enrolled boxes as principals.
"""

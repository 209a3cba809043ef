"""Supervisor approvals at the till.

`override_tokens`: the supervisor-token mechanism (grant with a PIN, single use, short-lived).
`line_price_edits`: a manual unit price or discount on one basket line, approved that way.
"""

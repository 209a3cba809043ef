"""The web shell every area's blueprint shares.

`request` (box context, correlation id, body parsing), `errors` (the one error handler),
`screen` (the cashier page and its /static assets) and `openapi` (the API document).
"""

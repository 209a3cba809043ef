"""Selling at the till.

The box-held basket (`basket`), its pricing through posdomain in one call (`money_setup`,
`pricing`), checkout and tenders, parked baskets (`suspend`), shifts with X/Z reports,
refunds, post-voids and no-sale opens (`voids`), and the HTML receipt.
"""

"""The sales read side (lists, overview, branch choices) and what sales ingest stores: sales,
refunds, post-voids and Z reports from the boxes.
"""

"""Products, barcodes and barcode formats, categories, branch prices, CSV import/export, and the
versioned catalog chunks boxes catch up with.
"""

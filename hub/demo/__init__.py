"""Demo tenant seeds (catalog, pricing, stock) and the hooks the benchmarks use."""

"""Customers (FR-400): records with minimal PII, search, purchase history, the card directory."""

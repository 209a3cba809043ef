"""Numbered hub migrations: each module NNNN_name.py has `up(ctx)`."""

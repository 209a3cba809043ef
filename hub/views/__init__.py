"""Thin Flask blueprints: parse, call a service, render."""

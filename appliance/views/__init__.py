"""Thin Flask blueprints: parse, call a service, render. No SQL here."""

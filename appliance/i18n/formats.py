"""Locale formatting on the box with Babel (NFR-007): the shared helpers of
`posdomain.locale_format` (the portal formats with the same ones)."""

from __future__ import annotations

from posdomain.locale_format import amount, babel_locale, moment, number_signs, percent

__all__ = ["amount", "babel_locale", "moment", "number_signs", "percent"]

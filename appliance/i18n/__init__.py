"""The box's message catalogs (en, de): UI strings and error texts keyed by reason code."""

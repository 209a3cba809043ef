"""Box configuration schema, hardware profiles and a validate command."""

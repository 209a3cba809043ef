"""Box configuration schema (`schema`), hardware profiles (`profiles`) and a validate CLI."""

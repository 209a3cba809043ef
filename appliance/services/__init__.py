"""Box domain services: plain functions over the box database, no Flask in here."""

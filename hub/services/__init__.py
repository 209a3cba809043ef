"""Hub domain services: plain functions over the models, called by views, CLI and worker."""

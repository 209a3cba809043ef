"""What every box area builds on: the SQLite database, the model base and the box context."""

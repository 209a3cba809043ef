"""peewee models' shared base: every box table binds to the box database proxy.

The schema lives in the numbered migrations (appliance/migrations/); these models must
equal it (tests/appliance/core/test_models_match_migrations.py).
"""

from __future__ import annotations

from peewee import Model

from appliance.core.db import database


class BaseModel(Model):
    """Binds every model to the box database proxy."""

    class Meta:
        database = database
        legacy_table_names = False

"""The box's peewee models equal the schema its numbered migrations build.

The schema lives in appliance/migrations/ and the models only describe it, so nothing but
this test notices a field added to a model without a migration (or a migration the models
never learnt about). A freshly migrated database is read back with playhouse.reflection and
compared model by model: tables, columns, storage types, nullability, primary keys, and the
foreign keys, indexes and uniques the models declare.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from peewee import CompositeKey, Field, ForeignKeyField, SqliteDatabase
from playhouse.reflection import DatabaseMetadata, Introspector

import appliance
from appliance.core.models import BaseModel
from appliance.migrations import migrate

pytestmark = pytest.mark.req("FR-800")

# Tables read and written through SQL on purpose, so no model describes them.
WITHOUT_MODEL = {
    "schema_migrations": "the migration runner's own bookkeeping",
    "outbox_queued": "backlog counter kept by triggers, read by one SELECT (migration 0005)",
    "products_fts": "FTS5 name index kept by triggers, queried by MATCH",
    "catalog_stage_products": "catch-up chunks not yet in force: catalog/catch_up.py speaks SQL",
    "catalog_stage_barcodes": "catch-up chunks not yet in force: catalog/catch_up.py speaks SQL",
    "catalog_stage_state": "catch-up chunks not yet in force: catalog/catch_up.py speaks SQL",
    "products_next": "a large download built beside the catalog (catalog/rebuild.py, 0020)",
    "barcodes_next": "a large download built beside the catalog (catalog/rebuild.py, 0020)",
    "products_next_fts": "a large download built beside the catalog (catalog/rebuild.py, 0020)",
    "catalog_fts_paused": "a row pauses the FTS triggers during a bulk apply (migration 0019)",
    "print_jobs": "device service tables: appliance/devices/store.py speaks SQL",
    "device_status": "device service tables: appliance/devices/store.py speaks SQL",
    "scan_events": "device service tables: appliance/devices/store.py speaks SQL",
    "drawer_log": "device service tables: appliance/devices/store.py speaks SQL",
}
# sqlite_sequence, FTS5 shadow tables
SQLITE_INTERNAL = ("sqlite_", "products_fts_", "products_next_fts_")


def box_models() -> list[type[BaseModel]]:
    """Every model of every area (each area's `models` module imported first)."""
    for info in pkgutil.walk_packages(appliance.__path__, "appliance."):
        if info.name.endswith(".models"):
            importlib.import_module(info.name)
    found, todo = [], list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        found.append(model)
        todo.extend(model.__subclasses__())
    return sorted(found, key=lambda m: m._meta.table_name)


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> DatabaseMetadata:
    """What a fresh box database holds after every migration."""
    db = SqliteDatabase(str(Path(tmp_path_factory.mktemp("schema")) / "box.sqlite3"))
    with db.connection_context():
        migrate(db)
        return Introspector.from_database(db).introspect()


def affinity(declared: str) -> str:
    """SQLite's type affinity of a declared column type (sqlite.org/datatype3.html, 3.1)."""
    text = declared.upper()
    if "INT" in text:
        return "INTEGER"
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in text or not text:
        return "BLOB"
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def model_type(field: Field) -> str:
    """The SQL type peewee would declare for a field on SQLite (a foreign key: its target's)."""
    types = SqliteDatabase(":memory:").get_context_options()["field_types"]
    return affinity(types[field.field_type])


def declared_indexes(model: type[BaseModel]) -> set[tuple[tuple[str, ...], bool]]:
    """(columns, unique) of every index the model declares, by field or in Meta.indexes."""
    meta = model._meta
    out = {
        ((f.column_name,), bool(f.unique))
        for f in meta.sorted_fields
        if (f.index or f.unique) and not f.primary_key
    }
    for names, unique in meta.indexes:
        out.add((tuple(meta.fields[n].column_name for n in names), bool(unique)))
    return out


def test_every_table_has_a_model_and_every_model_a_table(schema: DatabaseMetadata) -> None:
    migrated = {t for t in schema.columns if not t.startswith(SQLITE_INTERNAL)}
    modelled = {m._meta.table_name for m in box_models()}
    assert modelled - migrated == set(), "models of tables no migration creates"
    assert migrated - modelled - set(WITHOUT_MODEL) == set(), "tables without a model"
    assert set(WITHOUT_MODEL) <= migrated


@pytest.mark.parametrize("model", box_models(), ids=lambda m: m._meta.table_name)
def test_model_columns_equal_the_migrated_columns(
    model: type[BaseModel], schema: DatabaseMetadata
) -> None:
    table = model._meta.table_name
    columns = schema.columns[table]
    fields = {f.column_name: f for f in model._meta.sorted_fields}
    assert sorted(fields) == sorted(columns)
    for name, field in fields.items():
        column = columns[name]
        assert (name, model_type(field)) == (name, affinity(column.raw_column_type))
        if not field.primary_key:  # SQLite lets a TEXT PRIMARY KEY hold NULL; keys: next test
            assert (name, field.null) == (name, column.nullable)


@pytest.mark.parametrize("model", box_models(), ids=lambda m: m._meta.table_name)
def test_model_keys_and_indexes_exist_in_the_schema(
    model: type[BaseModel], schema: DatabaseMetadata
) -> None:
    table, meta = model._meta.table_name, model._meta
    pk = meta.primary_key
    pk_columns = (
        [meta.fields[n].column_name for n in pk.field_names]
        if isinstance(pk, CompositeKey)
        else [pk.column_name]
    )
    assert pk_columns == schema.primary_keys[table]
    indexes = {(tuple(ix.columns), bool(ix.unique)) for ix in schema.indexes[table]}
    assert declared_indexes(model) - indexes == set(), "declared indexes no migration creates"
    references = {(fk.column, fk.dest_table, fk.dest_column) for fk in schema.foreign_keys[table]}
    for field in meta.sorted_fields:
        if isinstance(field, ForeignKeyField):
            target = (field.rel_model._meta.table_name, field.rel_field.column_name)
            assert (field.column_name, *target) in references

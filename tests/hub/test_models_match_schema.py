"""Models and migrations cannot drift: every hub peewee model equals the migrated PostgreSQL
schema (tables, columns, types, nullability, unique keys), read back with playhouse.reflection."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from peewee import Field, ForeignKeyField, Model
from playhouse.postgres_ext import PostgresqlExtDatabase
from playhouse.reflection import Introspector

import hub
from hub.core.models import BaseModel
from tests.hub.conftest import drop_database, make_database

pytestmark = [pytest.mark.pg]

# peewee field type (as the model declares it) → PostgreSQL types the migration may use
COMPATIBLE = {
    "TEXT": {"text", "character varying"},
    "BIGINT": {"bigint"},
    "INT": {"integer", "bigint"},
    "AUTO": {"integer", "bigint"},
    "BOOL": {"boolean"},
    "FLOAT": {"double precision", "real", "numeric"},
    "BLOB": {"bytea"},
}
# our own field classes declare TEXT for SQLite; on PostgreSQL the migrations use richer types
CUSTOM = {"JsonField": {"jsonb", "json", "text"}, "UtcField": {"timestamp with time zone"}}
NOT_MODELLED = {"schema_migrations"}  # the migration runner's own bookkeeping


def hub_models() -> list[type[Model]]:
    """Every model class declared in a hub area's models module."""
    for info in pkgutil.walk_packages(hub.__path__, "hub."):
        if info.name.endswith(".models"):
            importlib.import_module(info.name)

    def walk(cls: type[Model]) -> Iterator[type[Model]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    # a test's own probe models (tests/hub/test_send_ahead.py) are not the product's
    declared = {m for m in walk(BaseModel) if m.__module__.startswith("hub.")}
    return sorted(declared, key=lambda m: m._meta.table_name)


@pytest.fixture(scope="module")
def schema(pg_admin_dsn: str) -> Iterator[Any]:
    """A freshly migrated (unseeded) hub database, introspected as its owner; the partitions
    of a partitioned table are the parent's storage, not tables of their own (migration 0022:
    report_lines by month), so they are left out."""
    admin_url, _app_url = make_database(pg_admin_dsn)
    name = admin_url.rsplit("/", 1)[1]
    database = PostgresqlExtDatabase(name, user="postgres", host="127.0.0.1", port=5432)
    try:
        partitions = {
            row[0]
            for row in database.execute_sql(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            ).fetchall()
        }
        # introspect the tables only: each table's foreign keys are an information_schema
        # query, and with the monthly partitions kept 24 months ahead (report_partitions job)
        # reading them all took over half an hour on a loaded machine
        tables = [t for t in database.get_tables() if t not in partitions]
        yield Introspector.from_database(database).introspect(table_names=tables)
    finally:
        database.close()
        drop_database(pg_admin_dsn, admin_url)


def _pg_types(field: Field) -> set[str]:
    if type(field).__name__ in CUSTOM:
        return CUSTOM[type(field).__name__]
    return COMPATIBLE.get(str(field.field_type), {str(field.field_type).lower()})


@pytest.mark.req("FR-800")
def test_every_table_has_a_model_and_every_model_a_table(schema: Any) -> None:
    tables = set(schema.columns) - NOT_MODELLED
    assert {m._meta.table_name for m in hub_models()} == tables


@pytest.mark.req("FR-800")
@pytest.mark.parametrize("model", hub_models(), ids=lambda m: m._meta.table_name)
def test_model_columns_equal_the_migrated_table(schema: Any, model: type[Model]) -> None:
    columns = schema.columns[model._meta.table_name]
    fields = {f.column_name: f for f in model._meta.sorted_fields}
    assert set(fields) == set(columns), "columns differ between model and migration"
    problems = []
    for name, field in fields.items():
        column = columns[name]
        raw = column.raw_column_type.lower()
        if raw not in _pg_types(field) and not isinstance(field, ForeignKeyField):
            problems.append(f"{name}: model {type(field).__name__}, table {raw}")
        if not field.primary_key and bool(column.nullable) != bool(field.null):
            problems.append(f"{name}: model null={field.null}, table nullable={column.nullable}")
        if field.unique and not (column.unique or column.primary_key):
            problems.append(f"{name}: unique in the model, no unique index in the table")
    assert problems == []

"""The column literals of hub/core/bulk.py (issue 15): the fast int, text, bool and UTC time
paths and the memoised general path (JSON) give PostgreSQL exactly the values the fields
convert, and no value (quotes, backslashes, commas, braces, NUL) can split into two elements
or shift a column."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg2
import pytest
from peewee import BigIntegerField, BooleanField, TextField

from hub.core import bulk
from hub.core.models import JsonField, JsonText, UtcField
from posdomain.canonical import canonical_text

ALPHABET = ['"', "\\", ",", "{", "}", " ", "a", "é", "NULL", "'", "\t", "\n", "\u2028", "x"]


def _texts(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6))) for _ in range(n)]


def _unnest(dsn: str, literal: str) -> list[Any]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT unnest(%s::text[])", (literal,))
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def _general(field: Any, values: list[Any]) -> list[Any]:
    """What the per-value form gives PostgreSQL: the field's value, as text."""
    slow = bulk._array_literal([field.db_value(v) for v in values])
    return slow  # type: ignore[return-value]


@pytest.mark.req("NFR-003")
def test_fast_columns_read_back_as_the_general_form(pg_admin_dsn: str) -> None:
    rng = random.Random(15)
    texts = _texts(rng, 400)
    nullable = [None if rng.random() < 0.2 else t for t in texts]
    ints = [rng.randint(-(2**62), 2**62) for _ in range(200)]
    some = [None if rng.random() < 0.3 else i for i in ints]
    flags = [rng.random() < 0.5 for _ in range(50)]
    base = datetime(2026, 12, 1, tzinfo=UTC)
    times = [base + timedelta(seconds=rng.randint(0, 5)) for _ in range(100)]
    times += [base.astimezone(timezone(timedelta(hours=2)))]  # the same instant, other zone
    docs = [{"k": t, "n": [1, 2]} for t in texts[:50]]
    # strings a payload may hold: NUL and control characters (json.dumps escapes them), quotes,
    # backslashes, non-ASCII; keys that sort; lists and numbers
    hostile = [{"z": "a\x00b", "a": ['"', "\\", "\n", "é", "\u2028"], "n": 1.5}, ["}", "{", ","]]
    naive = [datetime(2026, 12, 1, 8, 30), datetime(2026, 12, 1, 8, 30, tzinfo=UTC)]
    cases: list[tuple[Any, list[Any]]] = [
        (TextField(), texts),
        (TextField(null=True), nullable),
        (BigIntegerField(), ints),
        (BigIntegerField(null=True), some),
        (BooleanField(), flags),
        (UtcField(), times),
        (UtcField(null=True), [None, *times[:5], None, *naive]),
        (JsonField(), docs),
        (JsonField(), [*hostile, *docs[:5], "text", 7, True]),
        (JsonField(null=True), [None, *hostile]),
    ]
    for field, values in cases:
        fast = bulk._encoder(field)(field, values)
        assert _unnest(pg_admin_dsn, fast) == _unnest(pg_admin_dsn, _general(field, values))
        assert len(_unnest(pg_admin_dsn, fast)) == len(values)
    assert _unnest(pg_admin_dsn, bulk._encoder(TextField())(TextField(), texts)) == texts


@pytest.mark.req("NFR-003")
def test_a_value_never_splits_into_two_elements(pg_admin_dsn: str) -> None:
    hostile = ['a","b', 'x\\",\\"y', "}", "{", '","', "\\", '"', "NULL", ""]
    literal = bulk._encoder(TextField())(TextField(), hostile)
    assert _unnest(pg_admin_dsn, literal) == hostile
    # a NUL (which PostgreSQL text cannot hold) takes the per-value form: psycopg2 refuses the
    # literal instead of the joined form splitting the value at the NUL
    with_nul = ["ok", "a\x00b"]
    literal = bulk._encoder(TextField())(TextField(), with_nul)
    assert literal == bulk._array_literal(with_nul)
    with pytest.raises(ValueError, match="NUL"):
        _unnest(pg_admin_dsn, literal)
    assert bulk.text_array(["p-1", 'p"2']) == '{"p-1","p\\"2"}'


@pytest.mark.req("NFR-003")
def test_json_text_is_stored_as_the_json_it_holds(pg_admin_dsn: str) -> None:
    """An event's payload arrives as its canonical text (JsonText): stored as is, it is the
    same jsonb as the payload encoded by the field."""
    docs = [
        {"z": "a-b", "a": ['"', "\\", "é", "\u2028"], "n": 1.5},
        {"lines": [{"qty": "0.734", "name": 'Brot "Dinkel"'}], "k": None, "big": 2**70},
    ]
    texts = [JsonText(canonical_text(d)) for d in docs]
    field = JsonField()
    assert field.db_value(texts[0]) == canonical_text(docs[0])
    conn = psycopg2.connect(pg_admin_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT unnest(%s::text[])::jsonb", (bulk._encoder(field)(field, texts),))
            fast = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT unnest(%s::text[])::jsonb", (_general(field, docs),))
            slow = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    assert fast == slow == docs


@pytest.mark.req("NFR-003")
def test_constant_columns_go_once_and_read_back_row_by_row(pg_admin_dsn: str) -> None:
    """A column whose rows share one value is sent as a one-element array; mixed columns that
    merely compare equal (True and 1, 1 and 1.0) are never taken for constant ones."""
    from hub.core.models import BaseModel

    class Mixed(BaseModel):
        a = TextField()
        b = TextField(null=True)
        n = BigIntegerField(null=True)
        j = JsonField(null=True)
        t = UtcField(null=True)

        class Meta:
            table_name = "bulk_mixed_probe"

    types = {"a": "text", "b": "text", "n": "bigint", "j": "jsonb", "t": "timestamptz"}
    for col, kind in types.items():
        bulk._column_types[("bulk_mixed_probe", col)] = kind
    at = datetime(2026, 12, 2, 8, tzinfo=UTC)
    rows = [
        {"a": 'same "x",{y}', "b": None, "n": i, "j": [1, True][i % 2], "t": at} for i in range(6)
    ]
    sql, params = bulk._unnest_insert(Mixed, rows, "")
    assert sql.count("(%s::text[])[1]") == 3, sql  # a, b and t; n and j vary
    conn = psycopg2.connect(pg_admin_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE bulk_mixed_probe "
                "(a text, b text, n bigint, j jsonb, t timestamptz)"
            )
            cur.execute(sql, params)
            cur.execute("SELECT a, b, n, j, t FROM bulk_mixed_probe ORDER BY n")
            got = cur.fetchall()
    finally:
        conn.rollback()
        conn.close()
    assert got == [(r["a"], None, r["n"], r["j"], at) for r in rows]
    assert [type(r[3]) for r in got] == [int, bool] * 3
    one, _ = bulk._unnest_insert(Mixed, rows[:1], "")
    assert "[1]" not in one  # a single row: plain arrays

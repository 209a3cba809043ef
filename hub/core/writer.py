"""Statements sent ahead on a writer thread inside one transaction (issue 15 item 2, NFR-003).

A box's batch is written by a few large multi-row inserts, and between them the apply thread
spends as long again in Python (domain checks, report facts, row building). Run one after the
other, the database and the interpreter take turns and each waits for the other. Inside
`pipelined()`, an insert whose answer nobody needs yet is handed to a writer thread that runs
it on the same connection, in the same transaction, while the apply thread goes on building
the next rows; psycopg2 releases the GIL while PostgreSQL works.

Order and atomicity are those of the plain path:
* The writer runs the statements in the order they were sent (those queued back to back in
  one round trip).
* Any other statement of the apply thread (`execute_sql`: a look-up, a savepoint, an update)
  first waits for everything sent before it (`barrier`), and so does the commit. A statement
  therefore sees every row written before it, exactly as if nothing had been sent ahead.
* The first failure of a sent statement is raised in the apply thread at its next barrier or
  answer, with the statement's own exception (so `is_transient` classifies it as usual).
  The writer skips whatever was queued after it.
* Whichever way the block ends, nothing of it is still queued or running when the transaction
  is committed or rolled back (`discard` runs before any rollback).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import wait as wait_all
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

Rows = list[tuple[Any, ...]]
_local = threading.local()


class Mispredicted(Exception):
    """An answer read late was not the one the block went on with (a RETURNING that left a
    row out): the block must be rolled back and run again without sending ahead."""


class Skipped(Exception):
    """A statement not run because one sent before it failed (never raised to a caller)."""


@dataclass
class _Statement:
    sql: str
    params: Any
    returning: bool
    pipe: Pipeline
    future: Future[Rows] = field(default_factory=Future)


class _Writer:
    """The writer thread of one apply thread: runs the statements sent to it, in order.

    Statements queued back to back go to PostgreSQL as one round trip (mogrified and joined,
    a RETURNING one only last): every wake-up of this thread costs a GIL hand-over from a
    busy apply thread, so a dozen small rollup upserts cost one, not a dozen."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Statement] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="cfpos-writer", daemon=True)
        self._thread.start()

    def put(self, stmt: _Statement) -> None:
        self._queue.put(stmt)

    def _loop(self) -> None:
        while True:
            run = [self._queue.get()]
            while not run[-1].returning:
                try:
                    run.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._run(run)
            except BaseException as err:  # noqa: BLE001 - never leave an apply thread waiting
                for stmt in run:
                    if not stmt.future.done():
                        stmt.future.set_exception(err)

    @staticmethod
    def _run(run: list[_Statement]) -> None:
        live = [s for s in run if s.future.set_running_or_notify_cancel()]
        if not live:
            return
        pipe = live[0].pipe  # one pipeline at a time per apply thread: all the same
        if pipe._broken.is_set():
            for stmt in live:
                stmt.future.set_exception(Skipped(stmt.sql[:60]))
            return
        try:
            with pipe._wrapper, pipe._conn.cursor() as cur:
                if len(live) == 1:
                    cur.execute(live[0].sql, live[0].params)
                else:
                    cur.execute(b";\n".join(cur.mogrify(s.sql, s.params) for s in live))
                rows = [tuple(r) for r in cur.fetchall()] if live[-1].returning else []
        except Exception as err:  # noqa: BLE001 - raised in the apply thread, the rest skipped
            pipe._broken.set()
            live[0].future.set_exception(err)
            for stmt in live[1:]:
                stmt.future.set_exception(Skipped(stmt.sql[:60]))
            return
        for stmt in live[:-1]:
            stmt.future.set_result([])
        live[-1].future.set_result(rows)


class Pipeline:
    """The statements one transaction has sent ahead to its thread's writer."""

    def __init__(self, conn: Any, wrapper: AbstractContextManager[Any]) -> None:
        self._conn = conn
        self._wrapper = wrapper  # the database's exception wrapper: peewee's error types
        self._sent: list[Future[Rows]] = []
        self._broken = threading.Event()

    def send(self, sql: str, params: Any, returning: bool) -> Future[Rows]:
        """Queue one statement; its future answers the RETURNING rows (or [])."""
        stmt = _Statement(sql, params, returning, self)
        self._sent.append(stmt.future)
        _writer().put(stmt)
        return stmt.future

    def barrier(self) -> None:
        """Wait for every statement sent so far; raise the first one's failure."""
        sent, self._sent = self._sent, []
        try:
            for future in sent:
                future.result()
        except BaseException:
            self._sent = sent  # `discard` still waits for the ones queued behind it
            raise

    def answer(self, future: Future[Rows]) -> Rows:
        """The RETURNING rows of one sent statement (raises the first failure before it)."""
        done = self._sent.index(future) + 1 if future in self._sent else 0
        ahead, self._sent = self._sent[:done], self._sent[done:]
        try:
            for sent in ahead:
                sent.result()
        except BaseException:
            self._sent = ahead + self._sent
            raise
        return future.result()

    def discard(self) -> None:
        """Cancel what has not started, wait for what has (before a rollback)."""
        sent, self._sent = self._sent, []
        self._broken.set()
        for future in sent:
            future.cancel()
        wait_all(sent)


def _writer() -> _Writer:
    """The writer thread of the calling (apply) thread, started on first use."""
    found: _Writer | None = getattr(_local, "writer", None)
    if found is None:
        found = _local.writer = _Writer()
    return found


def current() -> Pipeline | None:
    """The pipeline of the calling thread's open `pipelined()` block, if any."""
    pipe: Pipeline | None = getattr(_local, "pipeline", None)
    return pipe


def barrier() -> None:
    """Before a statement of the calling thread: wait for everything it sent ahead."""
    pipe = current()
    if pipe is not None and pipe._sent:
        pipe.barrier()


def discard() -> None:
    """Before a rollback of the calling thread's transaction: nothing of it may still run."""
    pipe = current()
    if pipe is not None:
        pipe.discard()


@contextmanager
def pipelined(conn: Any, wrapper: AbstractContextManager[Any]) -> Iterator[Pipeline]:
    """Send inserts ahead on `conn` (the transaction's connection) until the block ends; the
    block's normal end waits for them all (their failure is raised here, inside the caller's
    transaction, which then rolls back); an exception discards what is still queued."""
    if current() is not None:
        raise RuntimeError("pipelined() blocks do not nest")
    pipe = Pipeline(conn, wrapper)
    _local.pipeline = pipe
    try:
        yield pipe
        pipe.barrier()
    except BaseException:
        pipe.discard()
        raise
    finally:
        _local.pipeline = None

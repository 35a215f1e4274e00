"""One database handle per process: the SQLAlchemy engine, tuned for SQLite or PostgreSQL."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

# A pooled connection given back less than this long ago is handed out without a ping (below).
PING_IDLE_SECONDS = 2.0


class ReadOnlyViolation(RuntimeError):
    """A read unit of work tried to write: on PostgreSQL it runs without a transaction, so the
    write would be durable at once instead of rolled back. Use `unit_of_work()` (write)."""


class Database:
    """Owns the engines and session factories.

    SQLite allows one writer at a time; a write transaction therefore starts with
    `BEGIN IMMEDIATE`, so two commands never both read a case and then race to save it.
    On PostgreSQL the write path locks the case row (`SELECT ... FOR UPDATE`) instead.

    On PostgreSQL, read sessions (`session(write=False)`) run in autocommit: no BEGIN and no
    ROLLBACK round trip per request. Nothing is lost by it: at READ COMMITTED every statement
    takes its own snapshot inside a transaction too, and a read session that would flush a change
    raises `ReadOnlyViolation` (on both databases, so the tests on SQLite catch it as well).
    """

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.kind = "sqlite" if url.startswith("sqlite") else "postgresql"
        if self.kind == "sqlite":
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = self._sqlite_engine(url, echo, immediate=False)
            self.write_engine = self._sqlite_engine(url, echo, immediate=True)
        else:
            self.engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20,
                                        json_deserializer=_json_loads)
            _ping_when_idle(self.engine)
            self.write_engine = self.engine
        read_engine = (self.engine if self.kind == "sqlite"
                       else self.engine.execution_options(isolation_level="AUTOCOMMIT"))
        self.read_sessions = sessionmaker(read_engine, expire_on_commit=False)
        event.listen(self.read_sessions, "before_flush", _refuse_writes)
        self.write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)

    @staticmethod
    def _sqlite_engine(url: str, echo: bool, immediate: bool) -> Engine:
        engine = create_engine(url, echo=echo, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def version(self) -> str:
        with self.engine.connect() as conn:
            if self.kind == "sqlite":
                return "SQLite " + conn.exec_driver_sql("select sqlite_version()").scalar_one()
            return conn.exec_driver_sql("show server_version").scalar_one()

    def session(self, write: bool) -> Session:
        return (self.write_sessions if write else self.read_sessions)()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


_decode_json = json.JSONDecoder().decode


def _json_loads(data: bytes | str) -> Any:
    """JSON columns from psycopg (UTF-8 bytes): `json.loads` of bytes first sniffs the encoding
    (~40 % of a small value's decoding); a case page decodes 300 of them."""
    return _decode_json(data.decode("utf-8", "surrogatepass") if isinstance(data, (bytes, bytearray)) else data)


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.deleted or any(session.is_modified(row) for row in session.dirty):
        raise ReadOnlyViolation("a read unit of work must not write: use unit_of_work() (write=True)")


def _ping_when_idle(engine: Engine) -> None:
    """`pool_pre_ping`, but only for a connection that sat in the pool for `PING_IDLE_SECONDS`.

    A ping is a round trip (and a statement for the server) on every checkout: under load, when
    each connection is handed out again within milliseconds, it only costs. A connection idle
    longer is pinged as before, and a failed ping invalidates the pool (the request gets a fresh
    connection). What is given up: if the server restarts within those 2 seconds of a
    connection's last use, the next statement on it fails (one request; SQLAlchemy then
    invalidates the whole pool).
    """
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        since = record.info.get("checked_in_at")
        if since is not None and time.monotonic() - since < PING_IDLE_SECONDS:
            return
        if not engine.dialect._do_ping_w_event(dbapi_connection):
            raise exc.InvalidatePoolError()


_STARTUP_LOCK = 0x6F6E6577  # "onew": the advisory lock key servers take while they start


@contextmanager
def startup_lock(url: str) -> Iterator[None]:
    """Held while a server migrates, deploys and seeds: servers started together on one
    PostgreSQL database take turns (the next finds the work done). SQLite serialises writers
    itself; there it is a no-op."""
    if not url.startswith("postgresql"):
        yield
        return
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _STARTUP_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _STARTUP_LOCK})
    finally:
        engine.dispose()

"""One database handle per process: the SQLAlchemy engine, tuned for SQLite or PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool


class Database:
    """Owns the engines and session factories.

    SQLite allows one writer at a time; a write transaction therefore starts with
    `BEGIN IMMEDIATE`, so two commands never both read a case and then race to save it.
    On PostgreSQL the write path locks the case row (`SELECT ... FOR UPDATE`) instead.
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
            self.engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10,
                                        max_overflow=20)
            self.write_engine = self.engine
        self.read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        from engine.services import statistics_upkeep  # notes the task rows a command changes (issue 14)
        statistics_upkeep.watch(self.write_sessions)

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

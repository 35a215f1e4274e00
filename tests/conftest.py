"""Shared fixtures: a real database (SQLite file, or PostgreSQL when DATABASE_URL says so),
a runtime with a clock the test drives, and actors."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from engine.domain.access import Actor
from engine.config import Settings, default_database_url
from engine.runtime import Runtime
from engine.adapters.migrate import upgrade
from engine.adapters.models import Base

TESTS = Path(__file__).resolve().parent
BPMN = TESTS / "bpmn"


class Clock:
    """A clock the test moves by hand; starts Monday 2026-03-02 09:00 Beijing time."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when.astimezone(timezone.utc)


def _postgres_database(base_url: str) -> tuple[str, callable]:
    name = f"ow_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base_url.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return url, drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory):
    if os.environ.get("DATABASE_URL"):
        base = default_database_url()
        if not base.startswith("postgresql"):
            pytest.fail(f"DATABASE_URL must be PostgreSQL for the test suite, got {base}")
        url, drop = _postgres_database(base)
    else:
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}", lambda: None
    upgrade(url)
    yield url
    drop()


def _end_stray_sessions(url: str) -> None:
    """A previous test's leaked transaction or leftover process must not block this test's
    clean-up forever: end every other session on the test database (PostgreSQL only)."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    engine.dispose()


def _empty_tables(runtime: Runtime) -> None:
    with runtime.database.write_engine.begin() as conn:
        if runtime.database.kind == "postgresql":
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(database_url: str, clock: Clock):
    _end_stray_sessions(database_url)
    rt = Runtime(Settings(database_url=database_url), clock=clock)
    _empty_tables(rt)
    yield rt
    rt.close()


@pytest.fixture
def designer() -> Actor:
    return Actor("dora", "designer")


@pytest.fixture
def agent() -> Actor:
    return Actor("alice", "agent")


def staff(department: str, name: str | None = None) -> Actor:
    return Actor(name or f"staff-{department}", "staff", department)


def deploy_file(runtime: Runtime, name: str, actor: Actor | None = None):
    from engine.services.definitions import deploy
    with runtime.unit_of_work() as uow:
        result = deploy(uow, actor or Actor("dora", "designer"), (BPMN / name).read_bytes(), name)
        uow.commit()
    return result

"""Read units of work (issue 16): on PostgreSQL they run without a transaction (no BEGIN and
ROLLBACK round trips), so they must never write, and pooled connections are pinged only after
sitting idle. What users rely on: a read cannot store anything, and a server restart or a
dropped connection does not fail the next request."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from engine.adapters import database
from engine.adapters.database import ReadOnlyViolation
from engine.adapters.models import User
from engine.services import users


def test_a_read_unit_of_work_cannot_write(runtime):
    with runtime.unit_of_work(write=False) as uow:
        uow.users.add(User(name="sneaky", role="admin", token_hash="x" * 64,
                           created_at=datetime(2026, 3, 2, tzinfo=timezone.utc), failed_logins=0))
        with pytest.raises(ReadOnlyViolation, match="must not write"):
            uow.session.flush()
    with runtime.unit_of_work(write=False) as uow:
        assert uow.users.by_name("sneaky") is None


def test_a_read_unit_of_work_cannot_change_a_row(runtime):
    with runtime.unit_of_work() as uow:
        users.create_user(uow, "ann", "admin")
        uow.commit()
    with runtime.unit_of_work(write=False) as uow:
        uow.users.by_name("ann").role = "agent"
        with pytest.raises(ReadOnlyViolation):
            uow.session.flush()
    with runtime.unit_of_work(write=False) as uow:
        assert uow.users.by_name("ann").role == "admin"


def test_reads_see_what_was_committed_meanwhile(runtime):
    """On PostgreSQL, without a transaction a read sees each commit as soon as it is made (as
    READ COMMITTED did statement by statement; SQLite reads keep their snapshot)."""
    if runtime.database.kind != "postgresql":
        pytest.skip("PostgreSQL's read sessions")
    with runtime.unit_of_work(write=False) as uow:
        assert uow.users.by_name("ann") is None
        with runtime.unit_of_work() as other:
            users.create_user(other, "ann", "admin")
            other.commit()
        assert uow.users.by_name("ann") is not None


def test_a_dropped_idle_connection_is_replaced(runtime, monkeypatch):
    if runtime.database.kind != "postgresql":
        pytest.skip("server connections are PostgreSQL's")
    with runtime.database.engine.connect() as admin:  # a second pooled connection kills the first
        with runtime.unit_of_work(write=False) as uow:
            pid = uow.session.execute(text("select pg_backend_pid()")).scalar_one()
        admin.exec_driver_sql(f"select pg_terminate_backend({pid})")
        admin.commit()
    monkeypatch.setattr(database, "PING_IDLE_SECONDS", 0.0)  # as if it had been idle for long
    for _ in range(3):  # whichever pooled connection comes out, the read succeeds
        with runtime.unit_of_work(write=False) as uow:
            assert uow.session.execute(text("select 1")).scalar_one() == 1

"""The unit of work's nesting rules on the database: a use case owns its transaction, a use case
called inside another's (or inside the worker's) joins it, only the outermost level commits and
closes, and whatever was not committed is rolled back (tests/unit/test_use_cases.py: the same on
the in-memory unit of work)."""
from __future__ import annotations

import pytest

from engine.errors import Conflict
from engine.services import users


def _names(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    with runtime.unit_of_work(write=False) as uow:
        return sorted(u.name for u in uow.users.all())


def test_a_use_case_handed_an_unentered_unit_of_work_commits_and_closes_it(runtime):
    uow = runtime.unit_of_work()
    token = users.create_user(uow, "wang", "staff", "county.fgj")
    assert token.startswith("ow_") and uow.depth == 0
    assert _names(runtime) == ["wang"]


def test_inside_an_outer_block_nothing_is_stored_until_the_outer_level_commits(runtime):
    with runtime.unit_of_work() as uow:
        users.create_user(uow, "wang", "staff", "county.fgj")
        session = uow.session
        assert uow.depth == 1 and session.is_active  # the inner exit did not close the session
        users.create_user(uow, "li", "staff", "county.fgj")
        assert uow.users.by_name("wang") is not None  # the same transaction sees it
        uow.commit()
    assert _names(runtime) == ["li", "wang"]


def test_an_error_after_an_inner_use_case_rolls_back_its_work_too(runtime):
    with pytest.raises(Conflict):
        with runtime.unit_of_work() as uow:
            users.create_user(uow, "wang", "staff", "county.fgj")
            users.create_user(uow, "wang", "staff", "county.fgj")  # refused: the first is not kept either
            uow.commit()
    assert _names(runtime) == []


def test_a_failing_use_case_stores_nothing_and_raises_as_before(runtime):
    users.create_user(runtime.unit_of_work(), "wang", "staff", "county.fgj")
    with pytest.raises(Conflict, match="already exists"):
        users.create_users(runtime.unit_of_work(), [("li", "staff", "county.fgj", None),
                                                    ("wang", "staff", "county.fgj", None)])
    assert _names(runtime) == ["wang"]  # li, made first in the same use case, is rolled back


def test_a_commit_the_outermost_level_never_makes_raises_instead_of_losing_the_work(runtime):
    with pytest.raises(RuntimeError, match="never committed"):
        with runtime.unit_of_work() as uow:
            users.create_user(uow, "wang", "staff", "county.fgj")
    assert _names(runtime) == []


def test_the_outer_level_may_commit_several_times_as_the_worker_does(runtime):
    with runtime.unit_of_work() as uow:
        users.create_user(uow, "wang", "staff", "county.fgj")
        uow.commit()
        users.create_user(uow, "li", "staff", "county.fgj")
        uow.commit()
        users.create_user(uow, "zhao", "staff", "county.fgj")  # not committed: rolled back at the exit
        uow.rollback()
    assert _names(runtime) == ["li", "wang"]


def test_rows_a_use_case_returns_stay_readable_after_its_session_closed(runtime):
    users.create_user(runtime.unit_of_work(), "wang", "staff", "county.fgj")
    uow = runtime.unit_of_work()
    with uow:
        row = uow.users.by_name("wang")
    assert (row.name, row.role, row.department) == ("wang", "staff", "county.fgj")

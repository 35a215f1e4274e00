"""Use cases own their transactions (`@use_case`), and a use case called by another joins it:
the nesting rules of the unit of work, on the in-memory one (tests/engine/test_unit_of_work.py
checks the same rules on the database)."""
from __future__ import annotations

import pytest

from engine.errors import Conflict
from engine.services import users
from engine.services.use_case import use_case
from tests.unit.fakes import FakeUnitOfWork


@use_case
def _two_users(uow: FakeUnitOfWork, first: str, second: str) -> list[str]:
    """A use case that calls another twice, as a batch starts cases or the worker runs timers."""
    return [users.create_user(uow, first, "staff", "county.fgj"), users.create_user(uow, second, "staff", "county.fgj")]


def test_a_use_case_enters_the_unit_of_work_it_is_handed_commits_and_leaves():
    uow = FakeUnitOfWork()
    users.create_user(uow, "wang", "staff", "county.fgj")
    assert uow.committed and uow.depth == 0 and uow.closed == 1


def test_a_use_case_called_by_another_joins_its_transaction_and_only_the_outermost_commits():
    uow = FakeUnitOfWork()
    seen = []

    @use_case
    def outer(uow: FakeUnitOfWork) -> None:
        users.create_user(uow, "wang", "staff", "county.fgj")
        seen.append((uow.depth, uow.committed))  # the inner use case left; nothing committed yet

    outer(uow)
    assert seen == [(1, False)] and uow.committed and uow.closed == 1


def test_inside_an_open_with_block_the_caller_commits():
    uow = FakeUnitOfWork()
    with uow:
        users.create_user(uow, "wang", "staff", "county.fgj")
        assert not uow.committed and uow.depth == 1
        uow.commit()
    assert uow.committed and uow.closed == 1


def test_a_failing_inner_use_case_commits_nothing_and_its_error_propagates():
    uow = FakeUnitOfWork()
    with pytest.raises(Conflict, match="already exists"):
        _two_users(uow, "wang", "wang")
    assert not uow.committed and uow.depth == 0 and uow.closed == 1


def test_a_commit_asked_for_inside_that_the_outermost_level_never_makes_is_an_error_not_a_silent_loss():
    uow = FakeUnitOfWork()
    with pytest.raises(RuntimeError, match="never committed"):
        with uow:
            users.create_user(uow, "wang", "staff", "county.fgj")
    assert not uow.committed and uow.depth == 0


def test_a_rollback_cancels_the_commit_an_inner_level_asked_for():
    """e.g. a dry run: the caller decides to keep nothing."""
    uow = FakeUnitOfWork()
    with uow:
        users.create_user(uow, "wang", "staff", "county.fgj")
        uow.rollback()
    assert not uow.committed and uow.closed == 1


def test_a_use_case_returns_what_it_made_and_the_unit_of_work_can_be_entered_again():
    uow = FakeUnitOfWork()
    tokens = _two_users(uow, "wang", "li")
    assert len(tokens) == 2 and uow.closed == 1
    users.create_user(uow, "zhao", "staff", "county.fgj")
    assert uow.closed == 2 and sorted(u.name for u in uow.users.all()) == ["li", "wang", "zhao"]

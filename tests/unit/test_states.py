"""Case and task states: the words stored and shown stay the same, the moves are the rules."""
import json

import pytest

from engine.domain.states import (CASE_MOVES, OPEN_CASE_STATUSES, CaseStatus, TaskStatus,
                                  case_move)
from engine.errors import Conflict


def test_states_are_the_words_in_the_database_and_the_json():
    assert [s.value for s in CaseStatus] == ["running", "suspended", "completed", "cancelled"]
    assert [s.value for s in TaskStatus] == ["ready", "completed", "cancelled", "error"]
    assert json.dumps({"status": CaseStatus.SUSPENDED}) == '{"status": "suspended"}'
    assert f"case is {CaseStatus.RUNNING}" == "case is running"
    assert TaskStatus("ready") is TaskStatus.READY and "ready" == TaskStatus.READY


def test_only_running_and_suspended_cases_are_open():
    assert set(OPEN_CASE_STATUSES) == {s for s in CaseStatus if s.is_open}
    assert not CaseStatus.COMPLETED.is_open and not CaseStatus.CANCELLED.is_open


@pytest.mark.parametrize("current, target, message", [
    ("suspended", CaseStatus.SUSPENDED, "case c1 is suspended, not running"),
    ("completed", CaseStatus.SUSPENDED, "case c1 is completed, not running"),
    ("running", CaseStatus.RUNNING, "case c1 is running, not suspended"),
    ("cancelled", CaseStatus.CANCELLED, "case c1 is already cancelled"),
    ("completed", CaseStatus.CANCELLED, "case c1 is already completed"),
])
def test_a_move_a_case_may_not_make_is_a_conflict_in_the_words_users_know(current, target, message):
    with pytest.raises(Conflict, match=f"^{message}$"):
        case_move("c1", current, target)


def test_the_moves_a_case_may_make():
    assert case_move("c1", "running", CaseStatus.SUSPENDED) is CaseStatus.SUSPENDED
    assert case_move("c1", "suspended", CaseStatus.RUNNING) is CaseStatus.RUNNING
    assert case_move("c1", "suspended", CaseStatus.CANCELLED) is CaseStatus.CANCELLED
    assert all(not CASE_MOVES[s] for s in CaseStatus if not s.is_open)  # ended cases stay ended

"""The states of a case (`cases.status`) and of a task row (`tasks.state`), and their moves.

They are `str` enums so the database columns, the JSON of the API and the events keep the very
same words (`"running"`, `"ready"`): a member compares equal to its word and is stored as it.
Comparing with a member instead of a string literal means a typo fails at import, and a reader
finds every place a state matters by searching for the member.

SpiffWorkflow has its own `TaskState` (the state of a task in the workflow tree); a task row's
`TaskStatus` is what our inboxes and history show, mirrored from it by `CaseWorkflow.sync`.
"""
from __future__ import annotations

from enum import StrEnum

from engine.errors import Conflict


class CaseStatus(StrEnum):
    """`cases.status`. Running and suspended cases are open (they hold their business key)."""
    RUNNING = "running"
    SUSPENDED = "suspended"     # 中止: nothing can be completed until resumed
    COMPLETED = "completed"     # the process reached its end
    CANCELLED = "cancelled"     # 终止: ended early by the agent or staff

    @property
    def is_open(self) -> bool:
        return self in OPEN_CASE_STATUSES


class TaskStatus(StrEnum):
    """`tasks.state` of a task row (a manual step someone works on)."""
    READY = "ready"             # in an inbox, may be claimed and completed
    COMPLETED = "completed"     # done by a person, or by the engine (a message, a timer)
    CANCELLED = "cancelled"     # its branch ended (a boundary event, the case cancelled)
    ERROR = "error"             # the step failed: an open incident says why


# `tasks.sla`: the warning state of an open timed task (engine.services.deadlines)
SLA_STATES = ("normal", "yellow", "red", "paused")

OPEN_CASE_STATUSES = (CaseStatus.RUNNING, CaseStatus.SUSPENDED)
TASK_STATUSES = tuple(TaskStatus)  # `x in TaskStatus` raises TypeError for a str before Python 3.12

# Which status a case may move to from which; a command that would break this is a conflict.
CASE_MOVES: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RUNNING: frozenset({CaseStatus.SUSPENDED, CaseStatus.COMPLETED, CaseStatus.CANCELLED}),
    CaseStatus.SUSPENDED: frozenset({CaseStatus.RUNNING, CaseStatus.CANCELLED}),
    CaseStatus.COMPLETED: frozenset(),
    CaseStatus.CANCELLED: frozenset(),
}


def case_move(case_id: str, current: str, target: CaseStatus) -> CaseStatus:
    """`target` if a case in `current` may move there, else a Conflict saying why
    (the words users have always seen: "case X is suspended, not running")."""
    if target in CASE_MOVES[CaseStatus(current)]:
        return target
    if target is CaseStatus.SUSPENDED:
        raise Conflict(f"case {case_id} is {current}, not running")
    if target is CaseStatus.RUNNING:
        raise Conflict(f"case {case_id} is {current}, not suspended")
    raise Conflict(f"case {case_id} is already {current}")

"""A project's public progress (公开监督): what anyone may see, for the JSON route and the page.

One row per approval item — not per task: an item's acceptance, review, 补正 and resubmission
are steps of one row whose state says where it stands (待受理 / 审查中 / 补正中 (clock stopped) /
已批准 / 不予许可 / 已撤回), with its body, time limit, due date (预计 when the calendar year is
provisional), the working days the body has used so far and whether it is overdue. Department
steps that are not approval items (the window's pre-review and intake, a body's opinion in a
process without items) are rows of their own, one per step and body. The case's state says
办理中 / 已暂停 / 处理异常 / 已办结 / 已终止.

Never variables, form data, opinions, personal data or user names: the view is built from task
rows' public columns (an item's name, code, body, limit and dates), and from the agent's rows only
which item they hold up (补正中) — never their content.

An element's `item_state` camunda:property says which state its open task means (`pending`,
`review`, `correction`, `approved`, `refused`); an item whose last task ended it is 已批准 after a
review or a supplied material, 不予许可 after a refusal the agent gave up, 已撤回 when the case was
terminated with the item open.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.adapters import project_store
from engine.services import fees as fee_payment
from engine.adapters import queries
from engine.domain.states import TASK_STATUSES, CaseStatus, TaskStatus

if TYPE_CHECKING:
    from engine.domain.organisation import Organisation
    from engine.adapters.models import Case, Task
    from engine.adapters.uow import UnitOfWork

STAGE_NAMES = {
    "registration": "项目登记", "agreement": "代办协议", "pre_review": "提前介入·材料预审",
    "intake": "窗口受理", "stage1_project_land": "阶段一：立项用地规划许可",
    "stage2_works_permit": "阶段二：工程建设许可", "stage3_construction_permit": "阶段三：施工许可",
    "stage4_completion": "阶段四：竣工验收", "eia": "环境影响评价", "auxiliary": "附属设施（分期报建）",
    "closure": "办结", "site_opinions": "选址意见征求", "coordination": "协调决定", "enquiry": "企业诉求答复",
}
# The case as the public sees it.
CASE_STATES = ("running", "suspended", "error", "completed", "terminated")
CASE_STATE_NAMES = {"running": "办理中", "suspended": "已暂停", "error": "处理异常", "completed": "已办结",
                    "terminated": "已终止"}
STATUS_NAMES = {"running": "办理中", "suspended": "已暂停", "completed": "已办结", "cancelled": "已终止",
                "error": "处理异常"}
# An approval item's states, then a plain step's.
ITEM_STATES = ("pending", "review", "correction", "approved", "refused", "withdrawn")
STEP_STATES = ("in_progress", "completed", "cancelled")
ITEM_STATE_NAMES = {"pending": "待受理", "review": "审查中", "correction": "补正中", "approved": "已批准",
                    "refused": "不予许可", "withdrawn": "已撤回",
                    "in_progress": "进行中", "completed": "已完成", "cancelled": "已取消"}
_ENDED_AS = {"review": "approved", "approved": "approved", "refused": "refused", "pending": "approved"}
_NATURAL = ("天", "day", "日")


def _item(task: "Task") -> dict[str, Any]:
    return task.item if isinstance(task.item, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _row_key(task: "Task") -> tuple[str, ...] | None:
    """Which public row a task belongs to: its approval item, or (for a department's own step)
    the step and body; an agent's task outside any item belongs to none."""
    item = _item(task)
    if _text(item.get("code")):
        return ("item", str(item["code"]))
    if _text(item.get("name")):
        return ("item", item["name"], task.department or "")
    if task.department is not None:
        return ("step", task.element_id, task.department)
    return None


@dataclass
class _Row:
    key: tuple[str, ...]
    tasks: list["Task"]

    @property
    def is_item(self) -> bool:
        return self.key[0] == "item"

    @property
    def body_tasks(self) -> list["Task"]:
        """The department's own tasks: the ones whose clock runs (the agent's stop it)."""
        return [t for t in self.tasks if t.department is not None]


def _element_state(task: "Task", properties: dict[str, dict[str, Any]]) -> str | None:
    value = (properties.get(task.element_id) or {}).get("item_state")
    return value if value in ITEM_STATES else None


def _item_state(row: _Row, properties: dict[str, dict[str, Any]]) -> str:
    open_tasks = [t for t in row.tasks if t.state == TaskStatus.READY]
    if open_tasks:
        task = open_tasks[-1]
        declared = _element_state(task, properties)
        if declared:
            return declared
        stopped = (task.time_rules or {}).get("clock_stop") or task.clock_stopped_at is not None
        return "correction" if stopped or task.department is None else "review"
    ended = [t for t in row.tasks if t.state in (TaskStatus.COMPLETED, TaskStatus.CANCELLED)]
    if not ended:
        return "review"  # only a task in error so far: the item is with its body
    last = ended[-1]  # tasks are in the order they were created; an item's run one after another
    if last.state == TaskStatus.CANCELLED:
        return "withdrawn"
    declared = _element_state(last, properties)
    return _ENDED_AS.get(declared or "", "approved" if declared else "completed")


def _step_state(row: _Row) -> str:
    if any(t.state == TaskStatus.READY for t in row.tasks):
        return "in_progress"
    states = {t.state for t in row.tasks}
    return "completed" if "completed" in states else ("cancelled" if "cancelled" in states else "in_progress")


def _natural(limit: str | None) -> bool:
    text = (limit or "").lower()
    return bool(text) and "working" not in text and "工作" not in text and any(w in text for w in _NATURAL)


def _days_used(uow: "UnitOfWork", row: _Row, limit: str | None, now: datetime) -> float | None:
    """Days the body has held the item: its own tasks' time, not the enterprise's 补正 or the
    agent's decisions; working days (counted as the limit is: from the day after a task began)
    unless the limit is in natural days."""
    timed = [t for t in row.body_tasks if t.state in (TaskStatus.READY, TaskStatus.COMPLETED)]
    if not timed:
        return None
    try:
        calendar = uow.runtime.calendars.calendar(uow)
        total = 0.0
        for task in timed:
            end = task.completed_at or task.clock_stopped_at or now
            if _natural(limit):
                total += max((end - task.created_at).total_seconds(), 0) / 86400
            else:  # as the law counts a limit: the working days after the day it began, up to today
                total += max(int(calendar.working_time_between(task.created_at, end, "working_days")), 0)
    except Exception:  # noqa: BLE001 - a year without calendar data must not take the page down
        return None
    return round(total, 1)


def _department(organisation: "Organisation", code: str | None) -> dict[str, Any]:
    body = organisation.get(code) if code and code in organisation else None
    return {"code": code, "name_zh": body.name_zh if body else None, "name_en": body.name_en if body else None}


def _public_row(uow: "UnitOfWork", organisation: "Organisation", row: _Row,
                properties: dict[str, dict[str, Any]], now: datetime) -> dict[str, Any]:
    first, item = row.tasks[0], _item(row.tasks[-1]) or _item(row.tasks[0])
    body = row.body_tasks[-1] if row.body_tasks else row.tasks[-1]
    open_body = [t for t in row.body_tasks if t.state == TaskStatus.READY]
    current = open_body[-1] if open_body else body
    state = _item_state(row, properties) if row.is_item else _step_state(row)
    ended = state in ("approved", "refused", "withdrawn", "completed", "cancelled") and not open_body \
        and not any(t.state == TaskStatus.READY for t in row.tasks)
    limit = _text(item.get("time_limit")) or current.time_limit
    due = current.due_at
    stopped = state == "correction" or current.clock_stopped_at is not None
    finished_at = max((t.completed_at for t in row.tasks if t.completed_at), default=None) if ended else None
    if due is None:
        overdue = False
    elif open_body:
        overdue = not stopped and now > due
    else:  # decided after its due date; deemed consent decides at the limit by law, so it is on time
        overdue = bool(current.completed_at and current.completed_at > due and not _deemed(current))
    stage = _text(item.get("stage"))
    if stage is None:
        declared = (properties.get(first.element_id) or {}).get("stage")
        stage = declared if isinstance(declared, str) and not declared.startswith("${") else None
    name = _text(item.get("name")) or (first.name if row.is_item else _step_name(first))
    return {
        "kind": "item" if row.is_item else "step",
        "code": _text(item.get("code")) if row.is_item else None,
        "name": name,
        "department": _department(organisation, body.department),
        "stage": stage,
        "track": _text(item.get("track")),
        "batch": item.get("batch") if isinstance(item.get("batch"), int) else None,
        "state": state,
        "state_name": ITEM_STATE_NAMES[state],
        "clock_stopped": bool(stopped and not ended),
        "time_limit": limit,
        "due_at": due,
        "due_provisional": bool(current.due_provisional) if due else False,  # 预计
        "days_used": _days_used(uow, row, limit, now),
        "overdue": overdue,
        "deemed_consent": any(_deemed(t) for t in row.body_tasks),
        "refusals": sum(1 for t in row.tasks if _element_state(t, properties) == "refused"),
        "started_at": first.created_at,
        "completed_at": finished_at,
    }


def _deemed(task: "Task") -> bool:
    """Completed by the worker because the body was silent past its limit (视为同意)."""
    return task.completed_by == "system" and (task.data or {}).get("deemed_consent") is True


def _step_name(task: "Task") -> str | None:
    """A step's name without an item suffix (the task name of an item task says `步骤 · 事项`)."""
    return task.name.split(" · ")[0] if task.name else task.name


def public_status(case: Any) -> str:
    """A running case with an open incident (a failed step waiting for an operator) shows as
    `error` (处理异常), not as 办理中; the error itself is never shown to the public."""
    return "error" if case.status == CaseStatus.RUNNING and case.error else case.status


def case_state(case: "Case", tasks: list["Task"]) -> str:
    """办理中 / 已暂停 / 处理异常 / 已办结 / 已终止: a case that ended through a closure saying
    "terminated" (企业申请终止, 中心终止) is 已终止, not 已办结."""
    if case.status == CaseStatus.CANCELLED:
        return "terminated"
    if case.status == CaseStatus.COMPLETED:
        outcomes = [str((t.data or {}).get("outcome", "")) for t in tasks
                    if t.form_key == "closure" and t.state == TaskStatus.COMPLETED]
        return "terminated" if outcomes and outcomes[-1].startswith("terminated") else "completed"
    if case.error:
        return "error"
    return "suspended" if case.status == CaseStatus.SUSPENDED else "running"


def item_rows(uow: "UnitOfWork", organisation: "Organisation", tasks: list["Task"],
              properties: dict[str, dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The public rows of a case's task rows, in the order the rows began."""
    rows: dict[tuple[str, ...], _Row] = {}
    for task in tasks:
        if task.state not in TASK_STATUSES:
            continue
        key = _row_key(task)
        if key is None:
            continue
        rows.setdefault(key, _Row(key, [])).tasks.append(task)
    return [_public_row(uow, organisation, row, properties, now) for row in rows.values()
            if any(t.state != TaskStatus.ERROR for t in row.tasks) or row.is_item]


def public_progress(uow: "UnitOfWork", organisation: "Organisation", business_key: str) -> dict[str, Any]:
    """The newest case of a project and one row per approval item (NotFound for an unknown code)."""
    case, tasks, properties = queries.public_project(uow, business_key)
    now = uow.runtime.clock()
    items = item_rows(uow, organisation, tasks, properties, now)
    state = case_state(case, tasks)
    return {"business_key": case.business_key, "name": case.name, "status": public_status(case),
            "status_name": CASE_STATE_NAMES[state], "state": state, "state_name": CASE_STATE_NAMES[state],
            "stage": case.stage, "stage_name": stage_name(case.stage) if case.stage else None,
            "started_at": case.started_at, "ended_at": case.ended_at,
            "overdue_items": sum(1 for i in items if i["overdue"] and i["kind"] == "item"),
            "fees": fee_payment.public_state(uow, case.id), "items": items, "questions": public_question_counts(uow, business_key)}


def public_question_counts(uow: "UnitOfWork", business_key: str) -> dict[str, int] | None:
    """The work group's questions as counts only (asked, answered, on time, open, overdue); never
    their text or who asked. None when the project has no work group."""
    if project_store.find(uow, business_key) is None:
        return None
    return project_store.question_counts(uow, business_key)


def by_stage(progress: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Rows grouped by stage in the order the stages began (for the page)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in progress["items"]:
        groups.setdefault(item["stage"] or "", []).append(item)
    return list(groups.items())


def stage_name(stage: str | None) -> str:
    return STAGE_NAMES.get(stage or "", stage or "其他")

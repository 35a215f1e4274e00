"""A project's public progress (公开监督): what anyone may see, for the JSON route and the page.

Only the project's name and code, the case's status and stage, and per approval item its body,
state and dates. Never variables, form data, opinions, personal data or user names: the view is
built from task rows' public columns, never from the workflow state.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine import queries

if TYPE_CHECKING:
    from engine.organisation import Organisation
    from engine.store.models import Task
    from engine.store.uow import UnitOfWork

ITEM_STATES = {"ready": "in_progress", "completed": "completed", "cancelled": "cancelled"}

STAGE_NAMES = {
    "registration": "项目登记", "agreement": "代办协议", "pre_review": "提前介入·材料预审",
    "intake": "窗口受理", "stage1_project_land": "阶段一：立项用地规划许可",
    "stage2_works_permit": "阶段二：工程建设许可", "stage3_construction_permit": "阶段三：施工许可",
    "stage4_completion": "阶段四：竣工验收", "eia": "环境影响评价", "auxiliary": "附属设施（分期报建）",
    "closure": "办结", "site_opinions": "选址意见征求", "coordination": "协调决定", "enquiry": "企业诉求答复",
}
STATUS_NAMES = {"running": "办理中", "suspended": "中止", "completed": "已办结", "cancelled": "已终止",
                "error": "处理异常"}
ITEM_STATE_NAMES = {"in_progress": "办理中", "completed": "已完成", "cancelled": "已取消"}


def _item_name(task: "Task") -> str | None:
    item = task.item if isinstance(task.item, dict) else {}
    name = item.get("name") or item.get("item_name")
    return name if isinstance(name, str) else task.name


def _stage(task: "Task", stages: dict[str, str]) -> str | None:
    """An approval item names its own stage; otherwise the element's literal `stage` property."""
    item = task.item if isinstance(task.item, dict) else {}
    if isinstance(item.get("stage"), str):
        return item["stage"]
    stage = stages.get(task.element_id)
    return None if stage is None or stage.startswith("${") else stage


def public_status(case: Any) -> str:
    """A running case with an open incident (a failed step waiting for an operator) shows as
    `error` (处理异常), not as 办理中; the error itself is never shown to the public."""
    return "error" if case.status == "running" and case.error else case.status


def public_progress(uow: "UnitOfWork", organisation: "Organisation", business_key: str) -> dict[str, Any]:
    """The newest case of a project and its department steps (NotFound for an unknown code)."""
    case, tasks, stages = queries.public_project(uow, business_key)
    items = []
    for task in tasks:
        department = organisation.get(task.department) if task.department in organisation else None
        items.append({
            "name": _item_name(task),
            "department": {"code": task.department,
                           "name_zh": department.name_zh if department else None,
                           "name_en": department.name_en if department else None},
            "state": ITEM_STATES[task.state], "stage": _stage(task, stages), "started_at": task.created_at,
            "completed_at": task.completed_at, "due_at": task.due_at,
            "due_provisional": task.due_provisional,  # 预计: counted before the year's schedule
        })
    status = public_status(case)
    return {"business_key": case.business_key, "name": case.name, "status": status,
            "status_name": STATUS_NAMES.get(status, status), "stage": case.stage,
            "started_at": case.started_at, "ended_at": case.ended_at, "items": items}


def by_stage(progress: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Items grouped by stage in the order the stages began (for the page)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in progress["items"]:
        groups.setdefault(item["stage"] or "", []).append(item)
    return list(groups.items())


def stage_name(stage: str | None) -> str:
    return STAGE_NAMES.get(stage or "", stage or "其他")


def working_late(item: dict[str, Any], now: datetime) -> bool:
    """An open item past its due date (shown in red on the page)."""
    return item["state"] == "in_progress" and item["due_at"] is not None and item["due_at"] < now

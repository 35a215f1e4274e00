"""Read models of the staff console's workbenches: inboxes filtered by stage, item and warning
state with their counts, definitions with running-case counts, incidents, a region overview.

Scoped by the same rules as `engine.adapters.queries` (a filter naming another department is a 403,
never an empty list) and read from indexed rows, never workflow state.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select

from engine.adapters import queries
from engine.adapters.models import Case, Definition, Task
from engine.adapters.queries import Page
from engine.adapters.uow import UnitOfWork
from engine.domain import access
from engine.domain.access import Actor
from engine.domain.states import OPEN_CASE_STATUSES, TaskStatus
from engine.errors import Forbidden, Invalid
from engine.services import cases
from engine.services import deadlines
from engine.services.cases import Started, complete_task, start_case
from engine.services.incidents import list_incidents

SLA_LEVELS = ("normal", "yellow", "red", "paused")
SORTS = ("due", "created")


@dataclass
class Inbox:
    page: Page
    counts: dict[str, int] = field(default_factory=dict)  # all, mine, unclaimed, normal, yellow, red, paused
    items: list[str] = field(default_factory=list)  # approval item names present, for the filter
    department: str | None = None


def _scope(actor: Actor, department: str | None) -> tuple[Any, str | None]:
    """The tasks an actor may list (a WHERE clause, or None) and the department filter in force."""
    scope = access.scope(actor, "tasks")
    if scope.everything:
        return None, department
    if scope.department is not None:
        if department is not None and department != scope.department:
            raise Forbidden(f"{actor.name} may not see the tasks of department {department}")
        return None, scope.department
    if department is not None:
        raise Forbidden(f"{actor.name} may not see the tasks of department {department}")
    mine = select(Case.id).where(Case.started_by == scope.agent)
    return Task.case_id.in_(mine), None


def _stage_elements(uow: UnitOfWork, stage: str) -> list[str]:
    """Element ids whose literal `stage` property is `stage`, in any deployed definition."""
    found = set()
    for elements in uow.session.scalars(select(Definition.elements)):
        for element_id, meta in (elements or {}).items():
            if isinstance(meta, dict) and (meta.get("properties") or {}).get("stage") == stage:
                found.add(element_id)
    return sorted(found)


_ITEM_NAMES: dict[tuple, tuple[float, list[str]]] = {}
ITEM_NAMES_SECONDS = 60.0  # the filter's list of approval items may lag a new item by this long


def _item_names(uow: UnitOfWork, base: Any, scope_key: tuple) -> list[str]:
    """Approval item names in an inbox, for its filter (a scan of JSON: cached per scope)."""
    now = time.monotonic()
    found = _ITEM_NAMES.get(scope_key)
    if found is not None and now - found[0] < ITEM_NAMES_SECONDS:
        return found[1]
    names = sorted(n for n in uow.session.scalars(
        base.with_only_columns(Task.item["name"].as_string(), maintain_column_froms=True).distinct()) if n)
    if len(_ITEM_NAMES) > 1000:
        _ITEM_NAMES.clear()
    _ITEM_NAMES[scope_key] = (now, names)
    return names


def inbox(uow: UnitOfWork, actor: Actor, *, department: str | None = None, stage: str | None = None,
          item: str | None = None, sla: str | None = None, mine: bool = False, sort: str = "due",
          page: int = 1, per_page: int = 50) -> Inbox:
    """Open tasks the actor may work or watch, soonest due first, with counts by warning state.

    Four statements, three of them answered from `ix_tasks_console_inbox` alone for a
    department: the counts (by level and claimant, one scan), the page's ids with the filtered
    total (one scan, `count(*) OVER ()`), then only that page's rows."""
    if sla is not None and sla not in SLA_LEVELS:
        raise Invalid(f"sla must be one of {', '.join(SLA_LEVELS)}", {"sla": ["unknown warning state"]})
    if sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}", {"sort": ["unknown order"]})
    clause, department = _scope(actor, department)
    base = select(Task).where(Task.state == TaskStatus.READY)
    if department is not None:
        base = base.where(Task.department == department)
    if clause is not None:
        base = base.where(clause)
    counts: Counter[str] = Counter()
    claimed = (Task.assignee == actor.name).label("mine")
    for level, is_mine, n in uow.session.execute(
            base.with_only_columns(Task.sla, claimed, func.count(), maintain_column_froms=True)
            .group_by(Task.sla, claimed)):
        counts[level or "none"] += n
        counts["all"] += n
        if is_mine:
            counts["mine"] += n
    items = _item_names(uow, base, (actor.role, department, actor.name if clause is not None else None))
    query = base
    if stage:
        query = query.where(or_(Task.item["stage"].as_string() == stage,
                                Task.element_id.in_(_stage_elements(uow, stage))))
    if item:
        query = query.where(Task.item["name"].as_string() == item)
    if sla:
        query = query.where(deadlines.sla_filter(sla))
    if mine:
        query = query.where(Task.assignee == actor.name)
    order = deadlines.inbox_order() if sort == "due" else (Task.created_at, Task.id)
    found = uow.session.execute(
        query.with_only_columns(Task.id, func.count().over().label("total"), maintain_column_froms=True)
        .order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
    if found:
        total = found[0].total
        rows = {row.id: row for row in uow.session.scalars(select(Task).where(Task.id.in_([f.id for f in found])))}
        tasks = [rows[f.id] for f in found]
    else:  # past the last page: the total still says how many there are
        total = uow.session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True)) or 0
        tasks = []
    return Inbox(Page(tasks, total, page, per_page), dict(counts), items, department)


def case_names(uow: UnitOfWork, case_ids: set[str]) -> dict[str, tuple[str | None, str]]:
    """Project name and code of each case, for rows that show tasks."""
    if not case_ids:
        return {}
    return {row.id: (row.name, row.business_key) for row in uow.session.execute(
        select(Case.id, Case.name, Case.business_key).where(Case.id.in_(case_ids)))}


def definitions_overview(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every process with its versions and how many cases of each version are open."""
    running = Counter({(key, version): n for key, version, n in uow.session.execute(
        select(Case.process_key, Case.process_version, func.count())
        .where(Case.status.in_(OPEN_CASE_STATUSES))
        .group_by(Case.process_key, Case.process_version))})
    result: dict[str, dict[str, Any]] = {}
    for row in uow.session.execute(
            select(Definition.key, Definition.version, Definition.name, Definition.deployed_at,
                   Definition.deployed_by, Definition.sha256).order_by(Definition.key, Definition.version)):
        entry = result.setdefault(row.key, {"key": row.key, "versions": [], "open_cases": 0})
        open_cases = running[(row.key, row.version)]
        entry["versions"].append({"version": row.version, "name": row.name, "deployed_at": row.deployed_at,
                                  "deployed_by": row.deployed_by, "sha256": row.sha256,
                                  "open_cases": open_cases})
        entry["open_cases"] += open_cases
        entry["name"], entry["latest"] = row.name, row.version
    return list(result.values())


def incidents(uow: UnitOfWork, actor: Actor, limit: int = 100) -> list[Any]:
    """Open incidents (failed steps waiting for an operator) the actor may see, newest first."""
    return list_incidents(uow, actor, state="open", per_page=limit).items


def region_overview(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Per region and body: open tasks and how many are yellow or red (government, admins)."""
    if not (actor.is_admin or actor.role == "government"):
        raise Forbidden(f"{actor.name} may not see the region overview")
    organisation = uow.organisation
    per_department: dict[str, Counter[str]] = {}
    for department, level, n in uow.session.execute(
            select(Task.department, Task.sla, func.count()).where(Task.state == TaskStatus.READY,
                                                                  Task.department.is_not(None))
            .group_by(Task.department, Task.sla)):
        counter = per_department.setdefault(department, Counter())
        counter["open"] += n
        counter[level or "none"] += n
    regions: dict[str, dict[str, Any]] = {}
    for code, counter in per_department.items():
        body = organisation.get(code) if code in organisation else None
        region = (body.region_name or body.region) if body else "?"
        entry = regions.setdefault(region, {"region": region, "open": 0, "yellow": 0, "red": 0, "bodies": []})
        entry["open"] += counter["open"]
        entry["yellow"] += counter["yellow"]
        entry["red"] += counter["red"]
        entry["bodies"].append({"code": code, "name": body.name_zh if body else code, "open": counter["open"],
                                "yellow": counter["yellow"], "red": counter["red"]})
    for entry in regions.values():
        entry["bodies"].sort(key=lambda b: (-b["red"], -b["yellow"], b["code"]))
    return sorted(regions.values(), key=lambda r: (-r["red"], r["region"]))


def start_form_key(uow: UnitOfWork, definition: Definition) -> str | None:
    """The form an agent fills to open a case of this process: the registration form (一张表单)
    when one of its elements uses it, else none."""
    for meta in (definition.elements or {}).values():
        if isinstance(meta, dict) and meta.get("formKey") == "registration":
            return "registration"
    return None


def register_project(uow: UnitOfWork, actor: Actor, process_key: str, registration: dict[str, Any]) -> Started:
    """Open a case from the registration form in one step: check the form first (nothing is
    created when it is wrong), start the case with the project code as business key, and
    complete its registration task with the same data."""
    access.require_role(actor, "agent")
    registration = uow.runtime.forms.validate("registration", registration)
    code = registration["project_code"]
    started = start_case(uow, actor, process_key, code, project=dict(registration))
    if started.created:
        for row in started.open_tasks or []:
            if row.form_key == "registration":
                complete_task(uow, actor, row.id, registration)
                break
    return started


def case_for_task(uow: UnitOfWork, actor: Actor, row: Task) -> tuple[Case, list[Task]]:
    """The case of a task the actor may see, with the case's task rows the actor may see
    (department staff: their own department's only)."""
    case = uow.cases.get(row.case_id)
    tasks = queries.visible_case_tasks(uow, actor, case)
    departments = {t.department for t in tasks if t.department is not None}
    if not (actor.role == "agent" and case.started_by == actor.name):
        access.require_case(actor, case.started_by, departments | ({row.department} if row.department else set()))
    return case, tasks


def may_work(uow: UnitOfWork, actor: Actor, row: Task) -> bool:
    """Whether the actor may claim or complete this task (the rule `complete_task` applies)."""
    case = uow.cases.get(row.case_id)
    try:
        cases._require_task_access(actor, row, case)  # noqa: SLF001 - the one rule, not a copy
    except Forbidden:
        return False
    return True

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

from engine.adapters import queries, workbench_queries
from engine.adapters.models import Case, Definition, Task
from engine.adapters.queries import Page
from engine.adapters.uow import UnitOfWork
from engine.domain import access
from engine.domain.access import Actor
from engine.errors import Forbidden, Invalid
from engine.services import cases
from engine.services.cases import Started, complete_task, start_case
from engine.services.incidents import list_incidents
from engine.services.use_case import use_case

SLA_LEVELS = ("normal", "yellow", "red", "paused")
SORTS = ("due", "created")


@dataclass
class Inbox:
    page: Page
    counts: dict[str, int] = field(default_factory=dict)  # all, mine, unclaimed, normal, yellow, red, paused
    items: list[str] = field(default_factory=list)  # approval item names present, for the filter
    department: str | None = None


def _scope(actor: Actor, department: str | None) -> tuple[str | None, str | None]:
    """The tasks an actor may list: the agent whose cases they must be (None: no such limit) and
    the department filter in force."""
    scope = access.scope(actor, "tasks")
    if scope.everything:
        return None, department
    if scope.department is not None:
        if department is not None and department != scope.department:
            raise Forbidden(f"{actor.name} may not see the tasks of department {department}")
        return None, scope.department
    if department is not None:
        raise Forbidden(f"{actor.name} may not see the tasks of department {department}")
    return scope.agent, None


_ITEM_NAMES: dict[tuple, tuple[float, list[str]]] = {}
ITEM_NAMES_SECONDS = 60.0  # the filter's list of approval items may lag a new item by this long


def _item_names(uow: UnitOfWork, department: str | None, agent: str | None, scope_key: tuple) -> list[str]:
    """Approval item names in an inbox, for its filter (a scan of JSON: cached per scope)."""
    now = time.monotonic()
    found = _ITEM_NAMES.get(scope_key)
    if found is not None and now - found[0] < ITEM_NAMES_SECONDS:
        return found[1]
    names = workbench_queries.ready_item_names(uow, department, agent)
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
    agent, department = _scope(actor, department)
    counts: Counter[str] = Counter()
    for level, is_mine, n in workbench_queries.ready_counts(uow, department, agent, actor.name):
        counts[level or "none"] += n
        counts["all"] += n
        if is_mine:
            counts["mine"] += n
    items = _item_names(uow, department, agent, (actor.role, department, actor.name if agent is not None else None))
    tasks, total = workbench_queries.ready_page(
        uow, department, agent, stage=stage, item=item, sla=sla, assignee=actor.name if mine else None,
        by_due=sort == "due", offset=(page - 1) * per_page, limit=per_page)
    return Inbox(Page(tasks, total, page, per_page), dict(counts), items, department)


def case_names(uow: UnitOfWork, case_ids: set[str]) -> dict[str, tuple[str | None, str]]:
    """Project name and code of each case, for rows that show tasks."""
    return workbench_queries.case_names(uow, case_ids)


def definitions_overview(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every process with its versions and how many cases of each version are open."""
    running = Counter(workbench_queries.open_cases_per_version(uow))
    result: dict[str, dict[str, Any]] = {}
    for row in workbench_queries.version_rows(uow):
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
    for department, level, n in workbench_queries.ready_per_department(uow):
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


@use_case
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


def case_for_task(uow: UnitOfWork, actor: Actor, row: Task) -> tuple[Case, list[queries.TaskView]]:
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

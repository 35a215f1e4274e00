"""SQL of the staff console's workbenches (`engine.services.workbench`): the inbox of ready tasks
(counts, filter values, one page), process versions with their open cases, open tasks per body.

The service decides who sees what (a department, or the cases an agent started) and hands it in
as `department` / `agent`; the statements here are written for `ix_tasks_console_inbox`."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select

from engine.adapters.models import Case, Definition, Task
from engine.adapters.queries import inbox_order, sla_filter
from engine.adapters.uow import UnitOfWork
from engine.domain.states import OPEN_CASE_STATUSES, TaskStatus


def _ready(department: str | None, agent: str | None) -> Select:
    """Ready tasks at one body (`department`) and/or of the cases one agent started (`agent`)."""
    base = select(Task).where(Task.state == TaskStatus.READY)
    if department is not None:
        base = base.where(Task.department == department)
    if agent is not None:
        base = base.where(Task.case_id.in_(select(Case.id).where(Case.started_by == agent)))
    return base


def ready_counts(uow: UnitOfWork, department: str | None, agent: str | None,
                 claimant: str) -> list[tuple[str | None, bool, int]]:
    """(SLA level, claimed by `claimant`, how many) of the ready tasks, one scan."""
    claimed = (Task.assignee == claimant).label("mine")
    return [(level, bool(is_mine), n) for level, is_mine, n in uow.session.execute(
        _ready(department, agent).with_only_columns(Task.sla, claimed, func.count(), maintain_column_froms=True)
        .group_by(Task.sla, claimed))]


def ready_item_names(uow: UnitOfWork, department: str | None, agent: str | None) -> list[str]:
    """The approval item names among the ready tasks (a scan of JSON: the caller caches it)."""
    return sorted(n for n in uow.session.scalars(
        _ready(department, agent).with_only_columns(Task.item["name"].as_string(), maintain_column_froms=True)
        .distinct()) if n)


def stage_elements(uow: UnitOfWork, stage: str) -> list[str]:
    """Element ids whose literal `stage` property is `stage`, in any deployed definition."""
    found = set()
    for elements in uow.session.scalars(select(Definition.elements)):
        for element_id, meta in (elements or {}).items():
            if isinstance(meta, dict) and (meta.get("properties") or {}).get("stage") == stage:
                found.add(element_id)
    return sorted(found)


def ready_page(uow: UnitOfWork, department: str | None, agent: str | None, *, stage: str | None = None,
               item: str | None = None, sla: str | None = None, assignee: str | None = None,
               by_due: bool = True, offset: int = 0, limit: int = 50) -> tuple[list[Task], int]:
    """One page of the ready tasks, filtered (`stage`: the item's stage or an element of that
    stage; `item`: the approval item's name; `sla`: a warning state; `assignee`), soonest due
    first (else oldest first), and how many pass the filters in all. The page's ids and the total
    in one scan (`count(*) OVER ()`), then only that page's rows."""
    query = _ready(department, agent)
    if stage:
        query = query.where(or_(Task.item["stage"].as_string() == stage,
                                Task.element_id.in_(stage_elements(uow, stage))))
    if item:
        query = query.where(Task.item["name"].as_string() == item)
    if sla:
        query = query.where(sla_filter(sla))
    if assignee is not None:
        query = query.where(Task.assignee == assignee)
    order = inbox_order() if by_due else (Task.created_at, Task.id)
    found = uow.session.execute(
        query.with_only_columns(Task.id, func.count().over().label("total"), maintain_column_froms=True)
        .order_by(*order).offset(offset).limit(limit)).all()
    if not found:  # past the last page: the total still says how many there are
        return [], uow.session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True)) or 0
    rows = {row.id: row for row in uow.session.scalars(select(Task).where(Task.id.in_([f.id for f in found])))}
    return [rows[f.id] for f in found], found[0].total


def case_names(uow: UnitOfWork, case_ids: set[str]) -> dict[str, tuple[str | None, str]]:
    """Project name and code of each case."""
    if not case_ids:
        return {}
    return {row.id: (row.name, row.business_key) for row in uow.session.execute(
        select(Case.id, Case.name, Case.business_key).where(Case.id.in_(case_ids)))}


def open_cases_per_version(uow: UnitOfWork) -> dict[tuple[str, int], int]:
    """How many cases of each (process key, version) are open."""
    return {(key, version): n for key, version, n in uow.session.execute(
        select(Case.process_key, Case.process_version, func.count())
        .where(Case.status.in_(OPEN_CASE_STATUSES))
        .group_by(Case.process_key, Case.process_version))}


def version_rows(uow: UnitOfWork) -> list[Any]:
    """(key, version, name, deployed_at, deployed_by, sha256) of every deployed version, by key
    and version (not the large spec columns)."""
    return list(uow.session.execute(
        select(Definition.key, Definition.version, Definition.name, Definition.deployed_at,
               Definition.deployed_by, Definition.sha256).order_by(Definition.key, Definition.version)))


def ready_per_department(uow: UnitOfWork) -> list[tuple[str, str | None, int]]:
    """(body, SLA level, how many) of the ready tasks at a body."""
    return [(department, level, n) for department, level, n in uow.session.execute(
        select(Task.department, Task.sla, func.count()).where(Task.state == TaskStatus.READY,
                                                              Task.department.is_not(None))
        .group_by(Task.department, Task.sla))]

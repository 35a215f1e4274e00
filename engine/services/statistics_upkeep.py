"""Upkeep of the statistics' summary rows (issue 14): `stat_items` (one per item of a case) and
`stat_cases` (one per case), kept in the transaction of every command that changes task rows.

Every write session is watched (`watch`): a flush that adds or changes a task row notes its item;
a change of a case's status, project or region, or of its own steps (intake, closure), notes the
case. Before the unit of work commits (`before_commit`, called by `UnitOfWork.commit`), each noted
item's row is recomputed from the item's task rows and each noted case's row from its items — so
the figures never lag behind the cases and a rolled-back command leaves no trace. Recomputing (not
incrementing) makes the upkeep idempotent: repairs, retries inside savepoints and
`onewindow stats rebuild` (`rebuild`) all converge on the same rows.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from itertools import chain
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
import weakref

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from engine.domain import statistics as figures
from engine.errors import Invalid
from engine.adapters.models import Case, StatCase, StatItem, Task
from engine.domain.calendar import Duration
from engine.services.use_case import use_case

if TYPE_CHECKING:
    from engine.adapters.uow import UnitOfWork
    from engine.domain.calendar import WorkCalendar

_ITEMS = "stat_items_dirty"
_CASES = "stat_cases_dirty"
_NEW = "stat_cases_new"
# Forms of a case's own steps whose completion changes the case's figures (accepted, closed).
CASE_FORMS = ("intake", "closure", "registration")
ACCEPTED = ("accept", "accept_with_commitment")




def stat_key(task: Task) -> str | None:
    """The item a task row counts for: its approval item's code, or `element@department` for a
    body's step outside items; None for the agent's own steps (registration, closure...)."""
    item = task.item if isinstance(task.item, dict) else None
    code = item.get("code") if item else None
    if code:
        return str(code)
    if task.department:
        return f"{task.element_id}@{task.department}"
    return None


def _note(session: Session, flush_context: Any, instances: Any) -> None:
    """before_flush: remember which items and cases this transaction touched, and which cases it
    inserted (`_NEW`: such a case, with a fresh id, has no summary rows but those this upkeep
    adds at the commit, so they are not looked for)."""
    items: dict[str, set[str]] = session.info.setdefault(_ITEMS, {})
    cases: set[str] = session.info.setdefault(_CASES, set())
    for obj in chain(session.new, session.dirty):
        if isinstance(obj, Task):
            key = stat_key(obj)
            if key is not None and obj.case_id:
                items.setdefault(obj.case_id, set()).add(key)
            item = obj.item if isinstance(obj.item, dict) else {}
            if obj.case_id and (key is None or item.get("track") == "auxiliary"
                                or (obj.form_key in CASE_FORMS and not item.get("code"))):
                cases.add(obj.case_id)  # the case's own steps (intake, closure) or a batch
        elif isinstance(obj, Case):
            if obj in session.new:
                cases.add(obj.id)
                session.info.setdefault(_NEW, set()).add(obj.id)
            elif any(inspect(obj).attrs[name].history.has_changes()
                     for name in ("status", "project", "region", "ended_at", "business_key")):
                cases.add(obj.id)


_WATCHED: "weakref.WeakSet[sessionmaker]" = weakref.WeakSet()


def watch(factory: sessionmaker) -> None:
    """Watch a session factory's sessions (the write sessions) for the upkeep.

    Whether a factory is watched is kept here, by identity, not asked of `event.contains`:
    SQLAlchemy's event registry is keyed by `id()`, so a new factory at the address of a
    collected one (every test, or a second runtime in a process) looked watched already and
    its sessions were never noted — their commands wrote no summary rows."""
    if factory not in _WATCHED:
        event.listen(factory, "before_flush", _note)
        _WATCHED.add(factory)


def before_commit(uow: "UnitOfWork") -> None:
    """Recompute the summary rows of what this unit of work touched (called by `uow.commit`).

    Per case: one statement for its summary rows (`summary`; none for a case this transaction
    inserted) and, when items changed, one for its task rows; the case's row is then computed
    from those in memory (its items as just written, its window steps from the task rows), not
    read back — nothing but this function writes summary rows in a command, and the task rows
    were flushed before they were read and do not change here."""
    stats = uow.statistics
    # Flush first: rows added since the last flush are noted by this flush (`_note`). Checking
    # before it skipped a command whose changes were all still pending — one that ran no query
    # after adding its rows (warm caches), so its summary rows were never written.
    stats.flush()
    if not stats.noted(_ITEMS, _CASES):
        return
    items: dict[str, set[str]] = stats.take(_ITEMS, {})
    cases: set[str] = stats.take(_CASES, set())
    new: set[str] = stats.take(_NEW, set())
    if not items and not cases:
        return
    tools = Tools(uow)
    for case_id in sorted(set(items) | cases):
        changed = False
        summary, existing = (None, {}) if case_id in new else stats.summary(case_id)
        keys = sorted(items.get(case_id, ()))
        tasks = None
        if keys:
            tasks = stats.tasks_of([case_id])
            groups = tasks_by_item(tasks)
            for key in keys:
                row_changed, row = refresh_item(uow, case_id, key, groups.get(key, []), existing.get(key), tools)
                changed = row_changed or changed
                if row is None:
                    existing.pop(key, None)
                else:
                    existing[key] = row
        case = stats.case(case_id)
        if case is not None and (case_id in cases or changed and case.status != "running" or summary is None):
            in_order = sorted(existing.values(), key=lambda i: (i.received_at is None, i.received_at, i.key))
            _refresh_case(uow, case, tools, summary, in_order, tasks)
    stats.flush()
    stats.take(_ITEMS, None)
    stats.take(_CASES, None)
    stats.take(_NEW, None)


class Tools:
    """The calendar arithmetic the domain functions are given."""

    def __init__(self, uow: "UnitOfWork") -> None:
        self.calendar: "WorkCalendar" = uow.runtime.calendars.calendar(uow)
        self.now = uow.runtime.clock()
        self.tz = self.calendar.office_hours.tz
        self._anchor: date | None = None
        self._forward: list[int] = [0]
        self._backward: list[int] = [0]

    def wd(self, a: datetime, b: datetime) -> int:
        """`working_time_between(a, b, "working_days")`, from a running count of working days per
        date (a rebuild asks it millions of times over a few hundred dates)."""
        return self._index(b.astimezone(self.tz).date()) - self._index(a.astimezone(self.tz).date())

    def _index(self, day: date) -> int:
        """Working days in (anchor, day] (negative before the anchor: minus those in (day, anchor]);
        only the days between dates actually asked about are looked up, so no year the calendar
        lacks is touched."""
        if self._anchor is None:
            self._anchor = day
        offset = (day - self._anchor).days
        counts = self._forward if offset >= 0 else self._backward
        while len(counts) <= abs(offset):
            n = len(counts)
            following = self._anchor + timedelta(days=n) if offset >= 0 else self._anchor - timedelta(days=n - 1)
            counts.append(counts[-1] + self.calendar.is_working_day(following))
        return counts[offset] if offset >= 0 else -counts[-offset]

    def limit_end(self, received: datetime, text: str) -> datetime | None:
        try:
            return self.calendar.add(received, Duration.parse(str(text)))
        except Invalid:
            return None

    def year(self, moment: datetime | None) -> int | None:
        return moment.astimezone(self.tz).year if moment is not None else None


def _stops(row: Task) -> tuple[tuple[datetime, datetime | None], ...]:
    """Manual clock stops of a body's task (special procedures), from its clock log."""
    out: list[tuple[datetime, datetime | None]] = []
    started: datetime | None = None
    for entry in (row.time_rules or {}).get("clock") or []:
        kind, at = entry[0], datetime.fromisoformat(entry[1]) if entry[1] else None
        if kind == "stop":
            started = at
        elif kind in ("resume", "restart") and started is not None:
            out.append((started, at))
            started = None
    if started is not None:
        out.append((started, row.completed_at))
    return tuple(out)


def _fact(row: Task) -> figures.TaskFact:
    data = row.data if isinstance(row.data, dict) else {}
    decision = data.get("decision")
    return figures.TaskFact(
        department=row.department, state=row.state, created_at=row.created_at, completed_at=row.completed_at,
        decision=decision if isinstance(decision, str) else None,
        deemed=row.completed_by == "system" and data.get("deemed_consent") is True,
        due_at=row.due_at, clock_stop=bool((row.time_rules or {}).get("clock_stop")),
        stops=_stops(row) if row.department else (), time_limit=_limit_of(row))


def _limit_of(row: Task) -> str | None:
    item = row.item if isinstance(row.item, dict) else {}
    value = item.get("time_limit") or row.time_limit
    return str(value) if value else None


def item_values(uow: "UnitOfWork", rows: list[Task], tools: Tools) -> dict[str, Any] | None:
    """An item's summary columns from its task rows in creation order (None: no body has it yet)."""
    body = [r for r in rows if r.department]
    if not body:
        return None
    facts = [_fact(r) for r in rows]
    try:
        result = figures.item_figures(facts, tools.wd, tools.limit_end, tools.now)
    except Invalid:  # a year the calendar cannot count: keep the counts, leave the days unknown
        result = figures.item_figures(facts, lambda a, b: 0, lambda a, t: None, tools.now)
        result = figures.ItemFigures(**{**result.__dict__, "days_used": None, "elapsed_days": None,
                                        "stop_days": 0, "limit_days": None})
    item = next((r.item for r in reversed(rows) if isinstance(r.item, dict)), None) or {}
    values = dict(
        kind="item" if item.get("code") else "step",
        name=str(item.get("name") or (body[0].name or "").split(" · ")[0])[:255] or None,
        stage=_text(item.get("stage")), track=_text(item.get("track")),
        batch=item.get("batch") if isinstance(item.get("batch"), int) else None,
        department=result.department, form_key=body[-1].form_key,
        received_at=result.received_at, decided_at=result.decided_at, outcome=result.outcome,
        days_used=result.days_used, elapsed_days=result.elapsed_days, stop_days=result.stop_days,
        limit_days=result.limit_days, time_limit=(_limit_of(body[-1]) or None),
        on_time=result.on_time, deemed=result.deemed, corrections=result.corrections,
        refusals=result.refusals, hours_used=result.hours_used)
    if values["stage"] is None:
        values["stage"] = _declared_stage(uow, body[0])
    return values


def tasks_by_item(tasks: list[Task]) -> dict[str, list[Task]]:
    """A case's task rows grouped by the item they count for (`stat_key`), order kept."""
    groups: dict[str, list[Task]] = {}
    for row in tasks:
        key = stat_key(row)
        if key is not None:
            groups.setdefault(key, []).append(row)
    return groups


def refresh_item(uow: "UnitOfWork", case_id: str, key: str, rows: list[Task], existing: StatItem | None,
                 tools: Tools) -> tuple[bool, StatItem | None]:
    """Recompute one item's summary row (`existing`, if any) from its task rows in creation
    order; whether the row changed, and the row now in force (None: the item has none)."""
    values = item_values(uow, rows, tools)
    if values is None:
        if existing is not None:
            uow.statistics.delete(existing)
        return existing is not None, None
    if existing is None:
        row = StatItem(case_id=case_id, key=key, **values)
        uow.statistics.add(row)
        return True, row
    changed = any(getattr(existing, k) != v for k, v in values.items())
    for k, v in values.items():
        setattr(existing, k, v)
    return changed, existing


def _text(value: Any) -> str | None:
    return str(value)[:120] if isinstance(value, str) and value else None


def _declared_stage(uow: "UnitOfWork", row: Task) -> str | None:
    """A step's stage from its BPMN `stage` property (the window's steps: pre_review, intake)."""
    case = uow.statistics.case(row.case_id)
    definition = (uow.runtime.specs.definition(case.definition_id,
                                               lambda: uow.statistics.definition(case.definition_id))
                  if case is not None else None)
    value = ((definition.elements or {}).get(row.element_id) or {}) if definition is not None else {}
    stage = (value.get("properties") or {}).get("stage") if isinstance(value, dict) else None
    return stage if isinstance(stage, str) and not stage.startswith("${") else None


def _case_state(case: Case, closures: list[Task]) -> str:
    """open | completed (办结) | terminated (终止: cancelled, or closed as terminated)."""
    if case.status == "cancelled":
        return "terminated"
    if case.status != "completed":
        return "open"
    outcome = str((closures[-1].data or {}).get("outcome", "")) if closures else ""
    return "terminated" if outcome.startswith("terminated") else "completed"


def _accepted_at(case: Case, intakes: list[Task], has_intake: bool) -> datetime | None:
    """When the window accepted the case (受理; 容缺受理 too): the first completed window intake
    (no item) that accepted; a process without a window intake (site selection, an enquiry) is
    accepted when it starts."""
    for row in intakes:
        if (row.data or {}).get("decision") in ACCEPTED:
            return row.completed_at
    return None if has_intake else case.started_at


def _code_of(row: Task) -> Any:
    """The item code a task row names (None: the window's own step), as `item->>'code'` reads it."""
    return row.item.get("code") if isinstance(row.item, dict) else None


def _window_steps(tasks: list[Task], form_key: str) -> list[Task]:
    """`statistics_queries.window_tasks` over task rows already read: the completed rows with
    this form that belong to no item, by completion."""
    rows = [t for t in tasks if t.form_key == form_key and t.state == "completed" and _code_of(t) is None]
    return sorted(rows, key=lambda t: (t.completed_at is None, t.completed_at, t.id))


def state_and_acceptance(uow: "UnitOfWork", case: Case, tasks: list[Task] | None = None) -> tuple[str, datetime | None]:
    """The case's state and when it was accepted, from its window steps: read from `tasks` (every
    task row of the case, current) when given, else queried."""
    if tasks is not None:
        state = _case_state(case, _window_steps(tasks, "closure") if case.status == "completed" else [])
        intakes = _window_steps(tasks, "intake")
        has_intake = bool(intakes) or any(t.form_key == "intake" and _code_of(t) is None for t in tasks)
        return state, _accepted_at(case, intakes, has_intake)
    stats = uow.statistics
    state = _case_state(case, stats.window_tasks(case.id, ("closure",)) if case.status == "completed" else [])
    intakes = stats.window_tasks(case.id, ("intake",))
    return state, _accepted_at(case, intakes, bool(intakes) or stats.has_window_intake(case.id))


def spans(items: list[StatItem]) -> list[figures.Span]:
    return [figures.Span(key=i.key, name=i.name, stage=i.stage, department=i.department, start=i.received_at,
                         end=i.decided_at, days_used=i.days_used, elapsed_days=i.elapsed_days,
                         limit_days=i.limit_days, stop_days=i.stop_days or 0, outcome=i.outcome)
            for i in items if i.kind == "item" and i.received_at is not None]


def case_values(uow: "UnitOfWork", case: Case, state: str, accepted: datetime | None,
                items: list[Any], tools: Tools) -> dict[str, Any]:
    """A case's summary columns from its state, acceptance and item rows (the timing once 办结)."""
    closed = case.ended_at if state == "completed" else None
    stages = Counter(i.stage or "" for i in items if i.kind == "item")
    timing = None
    if closed is not None and accepted is not None:
        try:
            timing = figures.case_timing(accepted, closed, spans(items), tools.wd)
        except Invalid:
            timing = None
    return dict(
        process_key=case.process_key, status=state, region=case.region or uow.organisation.default_region,
        project_type=figures.project_type(case.business_key),
        investment=figures.investment_of(case.project if isinstance(case.project, dict) else None),
        accepted_at=accepted, accepted_year=tools.year(accepted), closed_at=closed, closed_year=tools.year(closed),
        batches=len({i.batch for i in items if i.track == "auxiliary" and i.batch is not None}),
        items=sum(stages.values()),
        stage_items=json.dumps(dict(sorted(stages.items())), ensure_ascii=False) if stages else None,
        elapsed_days=timing.elapsed_days if timing else None,
        serial_limit_days=timing.serial_limit_days if timing else None,
        serial_actual_days=timing.serial_actual_days if timing else None,
        body_days=timing.body_days if timing else None,
        critical_days=timing.critical_days if timing else None,
        stop_days=timing.stop_days if timing else sum(i.stop_days or 0 for i in items))


def refresh_case(uow: "UnitOfWork", case: Case, tools: Tools | None = None) -> StatCase:
    """Recompute a case's summary row from its items."""
    stats = uow.statistics
    return _refresh_case(uow, case, tools or Tools(uow), stats.case_row(case.id), stats.case_items(case.id), None)


def _refresh_case(uow: "UnitOfWork", case: Case, tools: Tools, row: StatCase | None, items: list[StatItem],
                  tasks: list[Task] | None) -> StatCase:
    """Write a case's summary row (`row`: the one it has, if any) from its item rows and, when
    given, all its task rows (see `state_and_acceptance`)."""
    state, accepted = state_and_acceptance(uow, case, tasks)
    values = case_values(uow, case, state, accepted, items, tools)
    if row is None:
        row = StatCase(case_id=case.id, **values)
        uow.statistics.add(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
    return row


@use_case
def rebuild(uow: "UnitOfWork", case_ids: list[str] | None = None) -> dict[str, int]:
    """Recompute every summary row (or those of `case_ids`) from the task rows: after the
    migration that adds the tables, or after repairing data by hand. The cases' task rows are
    read in one statement and summarised in memory (the CLI runs it in batches of cases)."""
    stats = uow.statistics
    if case_ids is None:
        case_ids = stats.case_ids()
    stats.clear(case_ids)
    tools = Tools(uow)
    cases = stats.cases(case_ids)
    by_case: dict[str, list[Task]] = {}
    for row in stats.tasks_of(case_ids):
        by_case.setdefault(row.case_id, []).append(row)
    items_written = 0
    item_rows: list[dict[str, Any]] = []
    case_rows: list[dict[str, Any]] = []
    for case_id in case_ids:
        case = cases.get(case_id)
        if case is None:
            continue
        tasks = by_case.get(case_id, [])
        items = []
        for key, rows in tasks_by_item(tasks).items():
            values = item_values(uow, rows, tools)
            if values is not None:
                item_rows.append({"case_id": case_id, "key": key, **values})
                items.append(SimpleNamespace(key=key, **values))
        items_written += len(items)
        window = [t for t in tasks if t.state == "completed" and not (isinstance(t.item, dict) and t.item.get("code"))]
        closures = sorted((t for t in window if t.form_key == "closure"), key=lambda t: (t.completed_at, t.id))
        intakes = sorted((t for t in window if t.form_key == "intake"), key=lambda t: (t.completed_at, t.id))
        has_intake = any(t.form_key == "intake" and not (isinstance(t.item, dict) and t.item.get("code"))
                         for t in tasks)
        state = _case_state(case, closures)
        items.sort(key=lambda i: (i.received_at is None, i.received_at))
        case_rows.append({"case_id": case_id, **case_values(uow, case, state, _accepted_at(case, intakes, has_intake),
                                                             items, tools)})
    stats.insert_rows(item_rows, case_rows)
    return {"cases": len(case_rows), "items": items_written}


def all_case_ids(uow: "UnitOfWork") -> list[str]:
    """Every case's id, in order (`onewindow stats rebuild` goes through them in batches)."""
    return uow.statistics.case_ids()

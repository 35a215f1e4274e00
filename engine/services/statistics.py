"""Supervision statistics (issue 14): department performance (考核), the time parallel approval
saves, yearly figures — and the upkeep of the summary rows they are read from.

**Upkeep.** Every write session is watched (`watch`): a flush that adds or changes a task row
notes its item, a change of a case's status, project or region notes the case. Before the unit
of work commits (`before_commit`), each noted item's `stat_items` row is recomputed from the
item's task rows and each noted case's `stat_cases` row from its items — in the same
transaction, so the figures never lag behind the cases and a rolled-back command leaves no
trace. Recomputing (not incrementing) makes the upkeep idempotent: repairs, retries inside
savepoints and `onewindow stats rebuild` all converge on the same rows.

**Reading.** Figures are aggregates over those rows (`engine.adapters.statistics_queries`),
scoped by `scope`: admins and province-wide government users see every region; the staff,
leaders and government users of a region's window or government (coordinators, the centre's
director, the region's government) their region and the regions below it; staff and leaders of
a body only their own body's department figures. Everyone else gets 403.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import chain
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from engine import access
from engine.adapters import statistics_queries as q
from engine.domain import statistics as figures
from engine.errors import Forbidden, Invalid, NotFound
from engine.store.models import Case, StatCase, StatItem, Task
from engine.time.calendar import Duration

if TYPE_CHECKING:
    from engine.access import Actor
    from engine.store.uow import UnitOfWork
    from engine.time.calendar import WorkCalendar

_ITEMS = "stat_items_dirty"
_CASES = "stat_cases_dirty"
# Forms of a case's own steps whose completion changes the case's figures (accepted, closed).
CASE_FORMS = ("intake", "closure", "registration")
ACCEPTED = ("accept", "accept_with_commitment")
QUESTION_FORM = "enquiry_answer"
QUESTION_HOURS = 24.0


# --------------------------------------------------------------------------- upkeep


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
    """before_flush: remember which items and cases this transaction touched."""
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
            state = inspect(obj)
            if obj in session.new or any(state.attrs[name].history.has_changes()
                                         for name in ("status", "project", "region", "ended_at", "business_key")):
                cases.add(obj.id)


def watch(factory: sessionmaker) -> None:
    """Watch a session factory's sessions (the write sessions) for the upkeep."""
    if not event.contains(factory, "before_flush", _note):
        event.listen(factory, "before_flush", _note)


def before_commit(uow: "UnitOfWork") -> None:
    """Recompute the summary rows of what this unit of work touched (called by `uow.commit`)."""
    session = uow.session
    if _ITEMS not in session.info and _CASES not in session.info:
        return
    session.flush()
    items: dict[str, set[str]] = session.info.pop(_ITEMS, {})
    cases: set[str] = session.info.pop(_CASES, set())
    if not items and not cases:
        return
    tools = _Tools(uow)
    for case_id in sorted(set(items) | cases):
        changed = False
        for key in sorted(items.get(case_id, ())):
            changed = refresh_item(uow, case_id, key, tools) or changed
        case = session.get(Case, case_id)
        if case is not None and (case_id in cases or changed and case.status != "running"
                                 or session.get(StatCase, case_id) is None):
            refresh_case(uow, case, tools)
    session.flush()
    session.info.pop(_ITEMS, None)
    session.info.pop(_CASES, None)


class _Tools:
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


def item_values(uow: "UnitOfWork", rows: list[Task], tools: _Tools) -> dict[str, Any] | None:
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


def refresh_item(uow: "UnitOfWork", case_id: str, key: str, tools: _Tools | None = None) -> bool:
    """Recompute one item's summary row from its task rows; True when the row changed."""
    tools = tools or _Tools(uow)
    session = uow.session
    values = item_values(uow, q.item_tasks(session, case_id, key), tools)
    existing = q.stat_item(session, case_id, key)
    if values is None:
        if existing is not None:
            session.delete(existing)
        return existing is not None
    if existing is None:
        session.add(StatItem(case_id=case_id, key=key, **values))
        return True
    changed = any(getattr(existing, k) != v for k, v in values.items())
    for k, v in values.items():
        setattr(existing, k, v)
    return changed


def _text(value: Any) -> str | None:
    return str(value)[:120] if isinstance(value, str) and value else None


def _declared_stage(uow: "UnitOfWork", row: Task) -> str | None:
    """A step's stage from its BPMN `stage` property (the window's steps: pre_review, intake)."""
    from engine.store.models import Definition
    case = uow.session.get(Case, row.case_id)
    definition = (uow.runtime.specs.definition(case.definition_id,
                                               lambda: uow.session.get(Definition, case.definition_id))
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


def _state_and_acceptance(uow: "UnitOfWork", case: Case) -> tuple[str, datetime | None]:
    session = uow.session
    state = _case_state(case, q.window_tasks(session, case.id, ("closure",)) if case.status == "completed" else [])
    intakes = q.window_tasks(session, case.id, ("intake",))
    return state, _accepted_at(case, intakes, bool(intakes) or q.has_window_intake(session, case.id))


def _spans(items: list[StatItem]) -> list[figures.Span]:
    return [figures.Span(key=i.key, name=i.name, stage=i.stage, department=i.department, start=i.received_at,
                         end=i.decided_at, days_used=i.days_used, elapsed_days=i.elapsed_days,
                         limit_days=i.limit_days, stop_days=i.stop_days or 0, outcome=i.outcome)
            for i in items if i.kind == "item" and i.received_at is not None]


def case_values(uow: "UnitOfWork", case: Case, state: str, accepted: datetime | None,
                items: list[Any], tools: _Tools) -> dict[str, Any]:
    """A case's summary columns from its state, acceptance and item rows (the timing once 办结)."""
    closed = case.ended_at if state == "completed" else None
    stages = Counter(i.stage or "" for i in items if i.kind == "item")
    timing = None
    if closed is not None and accepted is not None:
        try:
            timing = figures.case_timing(accepted, closed, _spans(items), tools.wd)
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


def refresh_case(uow: "UnitOfWork", case: Case, tools: _Tools | None = None) -> StatCase:
    """Recompute a case's summary row from its items."""
    tools = tools or _Tools(uow)
    session = uow.session
    state, accepted = _state_and_acceptance(uow, case)
    values = case_values(uow, case, state, accepted, q.case_items(session, case.id), tools)
    row = session.get(StatCase, case.id)
    if row is None:
        row = StatCase(case_id=case.id, **values)
        session.add(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
    return row


def rebuild(uow: "UnitOfWork", case_ids: list[str] | None = None) -> dict[str, int]:
    """Recompute every summary row (or those of `case_ids`) from the task rows: after the
    migration that adds the tables, or after repairing data by hand. The cases' task rows are
    read in one statement and summarised in memory (the CLI runs it in batches of cases)."""
    from types import SimpleNamespace
    session = uow.session
    if case_ids is None:
        case_ids = list(session.scalars(select(Case.id).order_by(Case.id)))
    q.clear(session, case_ids)
    tools = _Tools(uow)
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}
    by_case: dict[str, list[Task]] = {}
    for row in q.tasks_of(session, case_ids):
        by_case.setdefault(row.case_id, []).append(row)
    items_written = 0
    item_rows: list[dict[str, Any]] = []
    case_rows: list[dict[str, Any]] = []
    for case_id in case_ids:
        case = cases.get(case_id)
        if case is None:
            continue
        tasks = by_case.get(case_id, [])
        groups: dict[str, list[Task]] = {}
        for row in tasks:
            key = stat_key(row)
            if key is not None:
                groups.setdefault(key, []).append(row)
        items = []
        for key, rows in groups.items():
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
    if item_rows:
        session.execute(StatItem.__table__.insert(), item_rows)
    if case_rows:
        session.execute(StatCase.__table__.insert(), case_rows)
    return {"cases": len(case_rows), "items": items_written}


# --------------------------------------------------------------------------- who sees what


@dataclass(frozen=True)
class Scope:
    """What an actor may see: `regions` None = every region; `department` = only this body's row."""

    regions: tuple[str, ...] | None
    department: str | None = None
    region: str | None = None  # the region the figures are for (None: all)


def scope(uow: "UnitOfWork", actor: "Actor", region: str | None, *, departments_only: bool = False) -> Scope:
    """The regions (and body) whose statistics the actor may read, narrowed to `region`."""
    organisation = uow.organisation
    wanted = organisation.region(region).code if region is not None else None
    if access.sees_everything(actor):
        return Scope(None if wanted is None else tuple(organisation.subtree(wanted)), region=wanted)
    watch = access.oversight(actor, organisation)
    if watch is not None:
        allowed = (watch.region, *watch.below)
        if wanted is not None and wanted not in allowed:
            raise Forbidden(f"{actor.name} may not see the statistics of region {wanted}")
        wanted = wanted or watch.region
        return Scope(tuple(organisation.subtree(wanted)), region=wanted)
    if departments_only and access.is_department_member(actor) and actor.department in organisation:
        own = organisation.get(actor.department)
        if wanted is not None and wanted != own.region:
            raise Forbidden(f"{actor.name} may not see the statistics of region {wanted}")
        return Scope((own.region,), department=actor.department, region=own.region)
    raise Forbidden(f"role {actor.role} may not see statistics")


@dataclass(frozen=True)
class Period:
    """From the start of `first` to the end of `last` (dates in Beijing, both included)."""

    first: date
    last: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, calendar: "WorkCalendar", first: date | None, last: date | None, today: date) -> "Period":
        last = last or today
        first = first or date(last.year, 1, 1)
        if first > last:
            raise Invalid("from is after to", {"from": [f"{first.isoformat()} is after {last.isoformat()}"]})
        tz = calendar.office_hours.tz
        return cls(first, last, datetime.combine(first, time(0), tz),
                   datetime.combine(last + timedelta(days=1), time(0), tz))

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _today(uow: "UnitOfWork") -> date:
    calendar = uow.runtime.calendars.calendar(uow)
    return uow.runtime.clock().astimezone(calendar.office_hours.tz).date()


# --------------------------------------------------------------------------- department performance

DepartmentFigure = Callable[["UnitOfWork", "list[str] | None", Period], "dict[str, dict[str, Any]]"]
DEPARTMENT_FIGURES: dict[str, DepartmentFigure] = {}


def register_department_figure(name: str, provider: DepartmentFigure) -> None:
    """Add (or replace) a per-body figure: `provider(uow, departments, period)` returns, per body
    code, the columns it adds to the league table. The questions module replaces
    `questions` with its own source (its question table) this way."""
    DEPARTMENT_FIGURES[name] = provider


def _questions_from_enquiries(uow: "UnitOfWork", departments: list[str] | None,
                              period: Period) -> dict[str, dict[str, Any]]:
    """Questions to a body (the enterprise_enquiry process: `enquiry_answer` steps) received in
    the period, and how many it answered within 24 hours (natural hours, as the rule says)."""
    found = q.questions(uow.session, departments, period.start, period.end, QUESTION_FORM, QUESTION_HOURS)
    return {d: {"questions": v["questions"], "questions_answered_24h": v["answered_within"],
                "questions_answered_24h_share": figures.share(v["answered_within"], v["questions"])}
            for d, v in found.items()}


register_department_figure("questions", _questions_from_enquiries)

DEPARTMENT_COLUMNS = (
    ("department", "部门代码"), ("name", "部门"), ("region", "地区"), ("level", "层级"),
    ("received", "收件数"), ("decided", "办结数"), ("approved", "准予"), ("refused", "不予许可"),
    ("sent_to_correction", "补正数"), ("days_median", "用时中位数（工作日）"), ("days_p90", "用时P90（工作日）"),
    ("limit_median", "时限中位数（工作日）"), ("on_time_share", "按时办结率"), ("overdue_now", "当前超期"),
    ("escalations_1", "一级协调"), ("escalations_2", "二级协调"), ("escalations_3", "三级协调"),
    ("deemed_consents", "视为同意"), ("questions", "企业诉求数"), ("questions_answered_24h", "24小时内答复"),
    ("questions_answered_24h_share", "24小时答复率"),
)


def _bodies(uow: "UnitOfWork", chosen: Scope, level: str | None) -> list[Any]:
    organisation = uow.organisation
    if chosen.department is not None:
        return [organisation.get(chosen.department)]
    found = organisation.list(level=level)
    if chosen.regions is not None:
        found = [d for d in found if d.region in chosen.regions]
    return found


def department_performance(uow: "UnitOfWork", actor: "Actor", *, first: date | None = None,
                           last: date | None = None, region: str | None = None, lower: bool = True,
                           level: str | None = None) -> dict[str, Any]:
    """Per body of `region` (and the regions below it unless `lower` is False), for the period:
    items received and decided, approved, refused, sent to 补正; working days used (median, p90)
    against the limit; share decided on time; overdue now; escalations by level; deemed
    consents; questions answered within 24 h."""
    chosen = scope(uow, actor, region, departments_only=True)
    if not lower and chosen.region is not None and chosen.department is None:
        chosen = Scope((chosen.region,), region=chosen.region)
    calendar = uow.runtime.calendars.calendar(uow)
    period = Period.of(calendar, first, last, _today(uow))
    bodies = {b.code: b for b in _bodies(uow, chosen, level)}
    codes = list(bodies) if (chosen.regions is not None or level is not None or chosen.department) else None
    session = uow.session
    got = q.received(session, codes, period.start, period.end)
    done = q.decided(session, codes, period.start, period.end)
    raised = q.escalations(session, codes, period.start, period.end)
    overdue = q.overdue_now(session, codes, uow.runtime.clock())
    extra = {name: provider(uow, codes, period) for name, provider in DEPARTMENT_FIGURES.items()}
    active = set(got) | set(done) | set(raised) | set(overdue) | set().union(*(set(v) for v in extra.values()))
    organisation = uow.organisation
    rows = []
    total_days: Counter = Counter()
    total_limits: Counter = Counter()
    for code in sorted(active, key=lambda c: (list(bodies).index(c) if c in bodies else len(bodies), c)):
        if codes is not None and code not in bodies:
            continue
        body = bodies.get(code) or (organisation.get(code) if code in organisation else None)
        r, d = got.get(code, {}), done.get(code, {})
        days, limits = d.get("days", Counter()), d.get("limits", Counter())
        total_days.update(days)
        total_limits.update(limits)
        row = {"department": code, "name": body.name_zh if body else None,
               "region": body.region if body else None, "level": body.level if body else None,
               "received": r.get("received", 0), "decided": d.get("decided", 0),
               "approved": d.get("approved", 0), "refused": d.get("refused", 0),
               "sent_to_correction": r.get("sent_to_correction", 0),
               "days_median": figures.median(days), "days_p90": figures.percentile(days, 0.9),
               "limit_median": figures.median(limits),
               "on_time_share": figures.share(d.get("on_time", 0), d.get("timed", 0)),
               "overdue_now": overdue.get(code, 0),
               "escalations": {str(level_): raised.get(code, {}).get(level_, 0) for level_ in (1, 2, 3)},
               "deemed_consents": d.get("deemed", 0),
               "questions": None, "questions_answered_24h": None, "questions_answered_24h_share": None}
        for values in extra.values():
            row.update(values.get(code, {}))
        rows.append(row)
    totals = {key: sum(r[key] or 0 for r in rows) for key in
              ("received", "decided", "approved", "refused", "sent_to_correction", "overdue_now", "deemed_consents")}
    timed = sum(done.get(r["department"], {}).get("timed", 0) for r in rows)
    on_time = sum(done.get(r["department"], {}).get("on_time", 0) for r in rows)
    totals.update(days_median=figures.median(total_days), days_p90=figures.percentile(total_days, 0.9),
                  limit_median=figures.median(total_limits), on_time_share=figures.share(on_time, timed),
                  escalations={str(n): sum(r["escalations"][str(n)] for r in rows) for n in (1, 2, 3)})
    return {"period": period.as_dict(), "region": chosen.region, "lower_regions": lower, "level": level,
            "departments": rows, "totals": totals}


def department_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The league table as CSV columns (Chinese headers) and rows."""
    header = [title for _, title in DEPARTMENT_COLUMNS]
    rows = []
    for r in report["departments"]:
        flat = {**r, **{f"escalations_{n}": r["escalations"][str(n)] for n in (1, 2, 3)}}
        rows.append([flat.get(key) for key, _ in DEPARTMENT_COLUMNS])
    return header, rows


# --------------------------------------------------------------------------- savings


def _saving_figures(f: dict[str, Any]) -> dict[str, Any]:
    vs_limits = figures.saving(f["serial_limits"], f["elapsed_with_limits"])
    vs_serial = figures.saving(f["serial_actual"], f["elapsed_with_actual"])
    return {"cases": f["cases"], "elapsed_days": f["elapsed"], "elapsed_days_median": figures.median(f["histogram"]),
            "serial_limit_days": f["serial_limits"], "serial_actual_days": f["serial_actual"],
            "body_days": f["body"], "critical_path_days": f["critical"], "clock_stop_days": f["stops"],
            "saving_vs_limits_days": vs_limits[0], "saving_vs_limits_percent": vs_limits[1],
            "saving_vs_serial_days": vs_serial[0], "saving_vs_serial_percent": vs_serial[1],
            "headline": (f"并联审批节省 {vs_serial[1]:.0f}%" if vs_serial[1] is not None else None)}


def savings(uow: "UnitOfWork", actor: "Actor", *, first: date | None = None, last: date | None = None,
            region: str | None = None) -> dict[str, Any]:
    """The time saved by parallel approval over the cases closed (办结) in the period: summed
    elapsed working days against the summed serial baselines, in all and per region."""
    chosen = scope(uow, actor, region)
    calendar = uow.runtime.calendars.calendar(uow)
    period = Period.of(calendar, first, last, _today(uow))
    organisation = uow.organisation
    per_region = q.savings(uow.session, list(chosen.regions) if chosen.regions is not None else None,
                           organisation.default_region, period.start, period.end)
    total = {"cases": 0, "elapsed": 0, "serial_limits": 0, "serial_actual": 0, "body": 0, "critical": 0,
             "stops": 0, "elapsed_with_limits": 0, "elapsed_with_actual": 0, "histogram": Counter()}
    regions = []
    for code in [r.code for r in organisation.regions()] + sorted(set(per_region) - {
            r.code for r in organisation.regions()}):
        if code not in per_region:
            continue
        f = per_region[code]
        for key in total:
            total[key] = total[key] + f[key]
        name = organisation.region(code).name_zh if code in {r.code for r in organisation.regions()} else code
        regions.append({"region": code, "name": name, **_saving_figures(f)})
    return {"period": period.as_dict(), "region": chosen.region, **_saving_figures(total), "regions": regions}


def case_timing(uow: "UnitOfWork", actor: "Actor", case_id: str) -> dict[str, Any]:
    """One case's timing (`GET /cases/{id}/timing`): elapsed working days from acceptance to
    办结, the serial baselines, the critical path and the saving; so far for an open case."""
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    departments = set(uow.session.scalars(select(Task.department).where(
        Task.case_id == case_id, Task.department.is_not(None)).distinct()))
    access.require_case(actor, case.started_by, departments, case.region or uow.organisation.default_region,
                        uow.organisation)
    tools = _Tools(uow)
    items = q.case_items(uow.session, case_id)
    state, accepted = _state_and_acceptance(uow, case)
    closed = case.ended_at if state == "completed" else None
    try:
        timing = figures.case_timing(accepted, closed, _spans(items), tools.wd)
        so_far = tools.wd(accepted, tools.now) if accepted and closed is None and state == "open" else None
    except Invalid:
        timing, so_far = figures.case_timing(None, None, _spans(items), lambda a, b: 0), None
    names = uow.organisation

    def span(s: figures.Span) -> dict[str, Any]:
        body = names.get(s.department) if s.department and s.department in names else None
        return {"key": s.key, "name": s.name, "stage": s.stage, "department": s.department,
                "department_name": body.name_zh if body else None, "received_at": s.start,
                "decided_at": s.end, "outcome": s.outcome, "days_used": s.days_used,
                "elapsed_days": s.elapsed_days, "limit_days": s.limit_days, "clock_stop_days": s.stop_days}

    saved = timing.savings()
    shown = _visible_departments(uow, actor, case)
    path = [s for s in timing.critical_path if shown is None or s.department in shown]
    items = [s for s in timing.items if shown is None or s.department in shown]
    return {"case_id": case.id, "business_key": case.business_key, "name": case.name, "state": state,
            "accepted_at": accepted, "closed_at": closed, "elapsed_days": timing.elapsed_days,
            "elapsed_days_so_far": so_far, "serial_limit_days": timing.serial_limit_days,
            "serial_actual_days": timing.serial_actual_days, "body_days": timing.body_days,
            "clock_stop_days": timing.stop_days, "critical_path_days": timing.critical_days,
            "saving_vs_limits_days": saved["vs_limits_days"], "saving_vs_limits_percent": saved["vs_limits_percent"],
            "saving_vs_serial_days": saved["vs_serial_days"], "saving_vs_serial_percent": saved["vs_serial_percent"],
            "headline": (f"并联审批节省 {saved['vs_serial_percent']:.0f}%"
                         if saved["vs_serial_percent"] is not None else None),
            "critical_path": [span(s) for s in path], "items": [span(s) for s in items]}


def _visible_departments(uow: "UnitOfWork", actor: "Actor", case: Case) -> set[str] | None:
    """Whose items of the case the actor may see (None: all), as on the case page: staff and
    leaders their own body's; a window or government of the case's region all; one of a region
    above, those at its region's bodies."""
    if not access.is_department_member(actor):
        return None
    watch = access.oversight(actor, uow.organisation)
    region = case.region or uow.organisation.default_region
    if watch is not None and region == watch.region:
        return None
    if watch is not None and region in watch.below:
        return {*watch.bodies, actor.department or ""}
    return {actor.department or ""}


# --------------------------------------------------------------------------- yearly figures

YEAR_COLUMNS = (
    ("year", "年度"), ("region", "地区"), ("accepted", "受理项目数"), ("closed", "办结项目数"),
    ("investment_total", "总投资（万元）"), ("investment_median", "投资中位数（万元）"),
    ("phased_share", "分期报建占比"), ("days_median", "办结用时中位数（工作日）"),
)


def years(uow: "UnitOfWork", actor: "Actor", *, region: str | None = None, first: int | None = None,
          last: int | None = None, by_region: bool = False) -> dict[str, Any]:
    """Per year (in Beijing time) and, with `by_region`, per region: projects accepted and closed
    (办结), total and median investment of those accepted (万元, the registration form's figure),
    median working days to 办结 by project type, items by stage, share of cases with phased
    submission (分期报建)."""
    chosen = scope(uow, actor, region)
    if first is not None and last is not None and first > last:
        raise Invalid("from_year is after to_year", {"from_year": [f"{first} is after {last}"]})
    span = (first or 1900, last or 9999) if (first or last) else None
    session, organisation = uow.session, uow.organisation
    regions = list(chosen.regions) if chosen.regions is not None else None
    default = organisation.default_region
    out: dict[tuple[int, str], dict[str, Any]] = {}

    def group(year: int, code: str | None) -> dict[str, Any]:
        key = (year, (code or default) if by_region else (chosen.region or "*"))
        return out.setdefault(key, {"accepted": 0, "closed": 0, "investment": Counter(), "phased": 0,
                                    "days": Counter(), "types": {}, "stages": Counter()})

    for year, code, investment, phased, n in q.accepted_by_year(session, regions, default, span):
        g = group(year, code)
        g["accepted"] += n
        g["phased"] += n if phased else 0
        if investment is not None:
            g["investment"][investment] += n
    for year, code, kind, days, n in q.closed_by_year(session, regions, default, span):
        g = group(year, code)
        g["closed"] += n
        if days is not None:
            g["days"][days] += n
            g["types"].setdefault(kind or "其他", Counter())[days] += n
    for year, code, profile, n in q.items_by_stage(session, regions, default, span):
        if profile:
            for stage, count in json.loads(profile).items():
                group(year, code)["stages"][stage or ""] += count * n
    rows = []
    for (year, code), g in sorted(out.items()):
        invest = g["investment"]
        rows.append({
            "year": year, "region": None if code == "*" else code,
            "accepted": g["accepted"], "closed": g["closed"],
            "investment_total": round(sum(v * n for v, n in invest.items()), 2),
            "investment_median": figures.median(invest),
            "phased_share": figures.share(g["phased"], g["accepted"]),
            "days_median": figures.median(g["days"]),
            "days_median_by_type": {t: figures.median(c) for t, c in sorted(g["types"].items())},
            "items_by_stage": dict(sorted(g["stages"].items())),
        })
    return {"region": chosen.region, "years": rows}


def years_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The yearly figures as CSV: fixed columns, then one per project type and per stage."""
    types = sorted({t for r in report["years"] for t in r["days_median_by_type"]})
    stages = sorted({s for r in report["years"] for s in r["items_by_stage"]})
    header = [title for _, title in YEAR_COLUMNS] + [f"办结用时中位数·{t}" for t in types] + \
             [f"事项数·{s or '未分阶段'}" for s in stages]
    rows = [[r.get(key) for key, _ in YEAR_COLUMNS] + [r["days_median_by_type"].get(t) for t in types] +
            [r["items_by_stage"].get(s, 0) for s in stages] for r in report["years"]]
    return header, rows


def savings_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    columns = (("region", "地区代码"), ("name", "地区"), ("cases", "办结项目数"), ("elapsed_days", "实际用时合计（工作日）"),
               ("elapsed_days_median", "实际用时中位数"), ("serial_limit_days", "串联时限合计"),
               ("serial_actual_days", "串联实际合计"), ("critical_path_days", "关键路径合计"),
               ("clock_stop_days", "停表合计"), ("saving_vs_limits_percent", "较串联时限节省%"),
               ("saving_vs_serial_percent", "较串联实际节省%"))
    return [t for _, t in columns], [[r.get(k) for k, _ in columns] for r in report["regions"]]

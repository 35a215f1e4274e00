"""Statistics of the reform, as pure computations: no database, no Flask, no clock.

What the supervision figures (考核, the time parallel approval saves, yearly figures) are made of:

- **An item's figures** (`item_figures`) from the task rows of one approval item (or of one body's
  step that is not an item, such as the window's intake or a body's opinion): when its body
  received it, when and how it was decided, the working days its body used (the enterprise's 补正
  and any clock stop are not counted against the body), the limit in working days, whether every
  step was decided within its due date, deemed consent, 补正 requests and refusals.
- **A case's timing** (`case_timing`): elapsed working days from acceptance to 办结 against two
  serial baselines — the sum of the items' limits, and the sum of the items' actual durations as
  if they had run one after another — the critical path through the stages, and the saving in
  days and percent against each baseline. Clock stops are shown apart.
- **Percentiles from a histogram** (`percentile`): the databases group rows by value and count
  them (one pass, the same SQL on SQLite and PostgreSQL); medians and p90 come from the counts by
  linear interpolation between the closest ranks (as PostgreSQL's `percentile_cont` and
  `statistics.quantiles(method="inclusive")`).

Working days are counted as the law counts a limit: the working days after the day something
began, up to and including the day it ended (`WorkCalendar.working_time_between(..., "working_days")`),
so an item received on Monday and decided on Tuesday used 1 working day.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Decisions of the shipped forms (approval_decision, intake): which end an item and how.
APPROVALS = frozenset({"approve", "approve_pending_materials"})
REFUSALS = frozenset({"refuse", "reject"})
CORRECTION = "correction"
OUTCOMES = ("open", "approved", "refused", "withdrawn", "completed")
DECIDED = ("approved", "refused", "completed")

# 项目代码 YYYY-DDDDDD-II-TT-NNNNNN: TT is the project type on the national investment platform.
PROJECT_CODE = re.compile(r"^\d{4}-\d{6}-\d{2}-(\d{2})-\d{6}$")
PROJECT_TYPES = {"01": "审批类", "02": "核准类", "03": "备案类"}

WorkingDays = Callable[[datetime, datetime], int]
"""`wd(a, b)`: the working days after a's day up to b's day (the calendar's count)."""


# --------------------------------------------------------------------------- percentiles


def histogram(values: Iterable[float | int | None]) -> Counter:
    """Values counted (None left out): what `GROUP BY value` returns."""
    return Counter(v for v in values if v is not None)


def percentile(counts: Mapping[float, int], q: float) -> float | None:
    """The q-quantile (0 ≤ q ≤ 1) of the values counted in `counts`, interpolating linearly
    between the two closest ranks; None when nothing was counted."""
    if not 0 <= q <= 1:
        raise ValueError(f"quantile {q} is not between 0 and 1")
    items = sorted((v, n) for v, n in counts.items() if n > 0)
    total = sum(n for _, n in items)
    if total == 0:
        return None
    rank = q * (total - 1)  # 0-based position in the sorted values
    low, high = math.floor(rank), math.ceil(rank)
    below, at_low, at_high = 0, None, None
    for value, n in items:
        if at_low is None and low < below + n:
            at_low = value
        if high < below + n:
            at_high = value
            break
        below += n
    assert at_low is not None and at_high is not None
    return round(float(at_low + (at_high - at_low) * (rank - low)), 2)


def median(counts: Mapping[float, int]) -> float | None:
    return percentile(counts, 0.5)


def share(part: int, whole: int) -> float | None:
    """part / whole as a fraction rounded to 4 places; None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


def saving(baseline: float | None, actual: float | None) -> tuple[float | None, float | None]:
    """(days saved, percent saved) of `actual` against `baseline`; None without a baseline."""
    if baseline is None or actual is None or baseline <= 0:
        return None, None
    return round(baseline - actual, 1), round((baseline - actual) * 100 / baseline, 1)


# --------------------------------------------------------------------------- one item


@dataclass(frozen=True)
class TaskFact:
    """What statistics need of one task row of an item."""

    department: str | None  # None: the agent's (or the enterprise's) task, e.g. 补正材料
    state: str  # ready | completed | cancelled | error
    created_at: datetime
    completed_at: datetime | None = None
    decision: str | None = None
    deemed: bool = False  # completed by the worker as 视为同意
    due_at: datetime | None = None
    clock_stop: bool = False  # the item's clock stands still while this task is open (补正)
    stops: tuple[tuple[datetime, datetime | None], ...] = ()  # manual stops of a body's task
    time_limit: str | None = None

    @property
    def is_body(self) -> bool:
        return self.department is not None


@dataclass(frozen=True)
class ItemFigures:
    """One approval item (or a body's step) as the statistics count it."""

    received_at: datetime | None
    decided_at: datetime | None
    outcome: str  # OUTCOMES
    department: str | None
    days_used: int | None  # working days the body held it (decided items only)
    elapsed_days: int | None  # working days from received to decided, clock stops included
    stop_days: int  # working days the clock stood still (补正, special procedures)
    limit_days: int | None  # the limit in working days, counted from when it was received
    on_time: bool | None  # every step decided by its due date (deemed consent is on time)
    deemed: bool
    corrections: int  # 补正 requests by the body
    refusals: int
    hours_used: float | None  # natural hours from received to decided (the 24-hour answer rule)


def _stopped_days(wd: WorkingDays, stops: Iterable[tuple[datetime, datetime | None]], end: datetime) -> int:
    return sum(max(wd(start, stop_end or end), 0) for start, stop_end in stops)


def item_figures(tasks: list[TaskFact], wd: WorkingDays, limit_end: Callable[[datetime, str], datetime | None],
                 now: datetime) -> ItemFigures:
    """The figures of one item from its task rows in the order they were created.

    `wd` counts working days; `limit_end(received, time_limit)` is when the limit would end if it
    ran from `received` uninterrupted (None when the limit cannot be read), for the limit in
    working days whatever its unit (e.g. the EIA's 30 natural days).
    """
    body = [t for t in tasks if t.is_body]
    department = body[-1].department if body else None
    received = body[0].created_at if body else None
    open_body = any(t.state in ("ready", "error") for t in body)
    open_any = any(t.state in ("ready", "error") for t in tasks)
    finals = [t for t in body if t.state == "completed" and (t.decision in APPROVALS or t.decision in REFUSALS)]
    corrections = sum(1 for t in body if t.state == "completed" and t.decision == CORRECTION)
    refusals = sum(1 for t in body if t.state == "completed" and t.decision in REFUSALS)
    deemed = any(t.deemed for t in body)
    decided_at: datetime | None = None
    if not body or open_body:
        outcome = "open"
    elif finals:  # the body's last answer stands (a refusal the agent may still resubmit, too)
        outcome = "approved" if finals[-1].decision in APPROVALS else "refused"
        decided_at = finals[-1].completed_at
    elif open_any:
        outcome = "open"  # the body asked for 补正 and waits for the enterprise
    elif any(t.state == "cancelled" for t in tasks):
        outcome = "withdrawn"  # the case ended with the item undecided
    else:
        outcome = "completed"  # a step without a decision (pre-review, an opinion) is done
        decided_at = max(t.completed_at for t in body if t.completed_at)
    stop_days = 0
    for t in tasks:
        if t.clock_stop and not t.is_body:
            stop_days += max(wd(t.created_at, t.completed_at or now), 0)
        elif t.is_body and t.stops:
            stop_days += _stopped_days(wd, t.stops, t.completed_at or now)
    days_used = elapsed = hours = limit_days = on_time = None
    if decided_at is not None and received is not None:
        days_used = sum(max(wd(t.created_at, t.completed_at), 0) - _stopped_days(wd, t.stops, t.completed_at)
                        for t in body if t.completed_at is not None and t.completed_at <= decided_at)
        days_used = max(days_used, 0)
        elapsed = max(wd(received, decided_at), 0)
        hours = round((decided_at - received).total_seconds() / 3600, 2)
        timed = [t for t in body if t.due_at is not None and t.completed_at is not None]
        if timed:
            on_time = all(t.deemed or t.completed_at <= t.due_at for t in timed)
    limit_text = next((t.time_limit for t in reversed(body) if t.time_limit), None)
    if limit_text and received is not None:
        end = limit_end(received, limit_text)
        limit_days = max(wd(received, end), 0) if end is not None else None
    return ItemFigures(received, decided_at, outcome, department, days_used, elapsed, stop_days, limit_days,
                       on_time, deemed, corrections, refusals, hours)


# --------------------------------------------------------------------------- one case


@dataclass(frozen=True)
class Span:
    """An item on a case's time line, for the serial baselines and the critical path."""

    key: str
    name: str | None
    stage: str | None
    department: str | None
    start: datetime
    end: datetime | None
    days_used: int | None
    elapsed_days: int | None
    limit_days: int | None
    stop_days: int
    outcome: str


def critical_path(spans: list[Span]) -> list[Span]:
    """The chain of items that set the case's pace: from the item that ended last, step back to
    the item that ended last before it began (what it waited for: the previous stage), and so on.
    Read from what happened, so it holds for any process, not only the four shipped stages."""
    ended = [s for s in spans if s.end is not None]
    if not ended:
        return []
    current = max(ended, key=lambda s: (s.end, -s.start.timestamp()))
    path = [current]
    while True:
        before = [s for s in ended if s.end <= current.start and s not in path]
        if not before:
            break
        current = max(before, key=lambda s: (s.end, -s.start.timestamp()))
        path.append(current)
    return list(reversed(path))


@dataclass
class CaseTiming:
    """How long a case took against doing its items one after another (并联审批节省)."""

    accepted_at: datetime | None
    closed_at: datetime | None
    elapsed_days: int | None
    serial_limit_days: int | None
    serial_actual_days: int | None
    body_days: int | None
    stop_days: int
    critical_days: int | None
    critical_path: list[Span] = field(default_factory=list)
    items: list[Span] = field(default_factory=list)

    def savings(self) -> dict[str, Any]:
        vs_limits = saving(self.serial_limit_days, self.elapsed_days)
        vs_actual = saving(self.serial_actual_days, self.elapsed_days)
        return {"vs_limits_days": vs_limits[0], "vs_limits_percent": vs_limits[1],
                "vs_serial_days": vs_actual[0], "vs_serial_percent": vs_actual[1]}


def case_timing(accepted_at: datetime | None, closed_at: datetime | None, spans: list[Span],
                wd: WorkingDays) -> CaseTiming:
    """A case's timing from its items (`closed_at` None: so far, nothing saved yet)."""
    items = sorted(spans, key=lambda s: (s.start, s.key))
    decided = [s for s in items if s.end is not None]

    def total(values: list[int | None]) -> int | None:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    path = critical_path(items)
    elapsed = max(wd(accepted_at, closed_at), 0) if accepted_at and closed_at else None
    return CaseTiming(
        accepted_at=accepted_at, closed_at=closed_at, elapsed_days=elapsed,
        serial_limit_days=total([s.limit_days for s in items]),
        serial_actual_days=total([s.elapsed_days for s in decided]),
        body_days=total([s.days_used for s in decided]),
        stop_days=sum(s.stop_days for s in items),
        critical_days=total([s.elapsed_days for s in path]) if path else None,
        critical_path=path, items=items)


def project_type(business_key: str | None) -> str:
    """The project type read from a project code's TT segment (审批类 / 核准类 / 备案类)."""
    match = PROJECT_CODE.match(business_key or "")
    if match is None:
        return "其他"
    return PROJECT_TYPES.get(match.group(1), f"类型{match.group(1)}")


def investment_of(project: Mapping[str, Any] | None) -> float | None:
    """Total investment (万元) from the registration form's figures in the case's project."""
    value = (project or {}).get("investment")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(str(value)) if value is not None else None
        except ValueError:
            return None
    if value is None or not math.isfinite(value) or value < 0:
        return None
    return float(value)

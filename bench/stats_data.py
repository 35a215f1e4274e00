"""Synthetic one-window cases for the statistics: the rows a year of real cases leaves behind
(a case row, its window intake, ten approval items over four stages with their bodies' tasks, a
closure), with the parameters that made them, so a test can compute the figures on its own.

Used by `tests/engine/test_statistics_years.py` (a year, inserted through the ORM: the upkeep
keeps the summary rows) and by `bench/stats.py` (10^5 cases, copied in bulk, then
`onewindow stats rebuild`). Working days come from `chinese_calendar` directly, not from the
engine's calendar, so the test's expectations are independent of the code under test.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

CST = ZoneInfo("Asia/Shanghai")
REGIONS = {  # region: (division, window, bodies by function)
    "pidu": ("510117", "county.zwfw", {"fgj": "county.fgj", "zrzy_city": "city.zrzyj", "zrzy": "county.zrzyj",
                                       "sthj": "county.sthjj", "zj": "county.zjj"}),
    "jingyang": ("510603", "jingyang.zwfw", {"fgj": "jingyang.fgj", "zrzy_city": "deyang.zrzyj",
                                             "zrzy": "deyang.zrzyj", "sthj": "deyang.sthjj", "zj": "jingyang.zjj"}),
    "deyang": ("510600", "deyang.zwfw", {"fgj": "deyang.fgw", "zrzy_city": "deyang.zrzyj", "zrzy": "deyang.zrzyj",
                                         "sthj": "deyang.sthjj", "zj": "deyang.zjj"}),
}
# (code, name, stage, function, limit in working days); the EIA runs alongside stages 1-2.
ITEMS = [
    ("project_approval", "项目审批/核准/备案", "stage1_project_land", "fgj", 20),
    ("site_land_pre_review", "用地预审与选址意见书", "stage1_project_land", "zrzy_city", 20),
    ("land_planning_permit", "建设用地规划许可证", "stage1_project_land", "zrzy", 20),
    ("design_review", "设计方案审查", "stage2_works_permit", "zrzy", 10),
    ("works_planning_permit", "建设工程规划许可证", "stage2_works_permit", "zrzy", 10),
    ("drawings_review", "施工图联合审查（含消防、人防）", "stage3_construction_permit", "zj", 15),
    ("fire_design_review", "消防设计审查", "stage3_construction_permit", "zj", 15),
    ("construction_permit", "建筑工程施工许可证", "stage3_construction_permit", "zj", 7),
    ("joint_acceptance", "联合验收（规划、土地、消防、人防、档案）", "stage4_completion", "zj", 15),
    ("completion_filing", "竣工验收备案", "stage4_completion", "zj", 15),
]
STAGES = ["stage1_project_land", "stage2_works_permit", "stage3_construction_permit", "stage4_completion"]
TYPES = {"01": "审批类", "02": "核准类", "03": "备案类"}


@lru_cache(maxsize=None)
def is_workday(d: date) -> bool:
    return chinese_calendar.is_workday(d)


def add_workdays(d: date, n: int) -> date:
    for _ in range(n):
        d += timedelta(days=1)
        while not is_workday(d):
            d += timedelta(days=1)
    return d


def workdays_between(a: datetime, b: datetime) -> int:
    """Working days after a's day up to b's day (Beijing), counted on chinese_calendar."""
    day, end, n = a.astimezone(CST).date(), b.astimezone(CST).date(), 0
    while day < end:
        day += timedelta(days=1)
        n += is_workday(day)
    return n


def at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), CST)


@dataclass
class Item:
    code: str
    name: str
    stage: str
    department: str
    limit: int
    received: datetime
    accepted: datetime
    decided: datetime
    refused: bool


@dataclass
class SyntheticCase:
    id: str
    region: str
    business_key: str
    type_code: str
    investment: float
    accepted: datetime
    closed: datetime | None
    batches: int
    items: list[Item] = field(default_factory=list)

    @property
    def project_type(self) -> str:
        return TYPES[self.type_code]


def generate(count: int, years: tuple[int, ...], seed: int = 14, last: date | None = None) -> list[SyntheticCase]:
    """`count` cases accepted on working days of `years` (up to `last`); about 80 % closed (办结).
    A case takes up to about four months: `last` keeps them inside the years chinese_calendar knows."""
    rng = random.Random(seed)
    days = [d for y in years for d in (date(y, 1, 1) + timedelta(days=i) for i in range(366))
            if d.year == y and is_workday(d) and (last is None or d <= last)]
    out = []
    for serial in range(count):
        region = rng.choice(list(REGIONS))
        division, _, bodies = REGIONS[region]
        day = rng.choice(days)
        accepted = at(day, rng.randint(9, 16), rng.choice((0, 30)))
        type_code = rng.choice(list(TYPES))
        case = SyntheticCase(str(uuid.UUID(int=rng.getrandbits(128))), region,
                             f"{day.year}-{division}-33-{type_code}-{serial:06d}", type_code,
                             float(rng.choice((800, 1500, 3000, 5000, 12000, 30000, 50000, 120000))) +
                             rng.randint(0, 99),
                             accepted, None, rng.choice((0, 0, 0, 1, 2)))
        start = day
        for stage in STAGES:
            end = start
            for code, name, item_stage, function, limit in ITEMS:
                if item_stage != stage:
                    continue
                took = rng.randint(1, limit + 3)
                accept_days = rng.randint(0, min(took, 3))
                received = at(start, 9) if stage != STAGES[0] else accepted
                accepted_on = add_workdays(received.date(), accept_days)
                decided_on = add_workdays(received.date(), took)
                case.items.append(Item(code, name, stage, bodies[function], limit, received,
                                       max(at(accepted_on, 10), received), at(decided_on, 15),
                                       rng.random() < 0.05))
                end = max(end, decided_on)
            start = add_workdays(end, 1)
        if rng.random() < 0.8:
            case.closed = at(start, 11)
        out.append(case)
    return out


def _due(received: datetime, limit: int) -> datetime:
    return at(add_workdays(received.date(), limit), 17, 30)


def rows(case: SyntheticCase, definition_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The case row and its task rows, as column values."""
    _, window, _ = REGIONS[case.region]
    ids = iter(uuid.uuid5(uuid.UUID(case.id), str(n)).hex for n in range(1000))
    started = case.accepted - timedelta(hours=1)
    last = case.closed or max(i.decided for i in case.items)
    case_row = dict(id=case.id, definition_id=definition_id, process_key="one_window_agency", process_version=1,
                    business_key=case.business_key, open_key=None if case.closed else f"one_window_agency|{case.id}",
                    name=f"项目{case.business_key[-6:]}", status="completed" if case.closed else "running",
                    project={"project_name": f"项目{case.business_key[-6:]}", "investment": case.investment},
                    started_by="alice", started_at=started, updated_at=last, ended_at=case.closed, stage=None,
                    error=None, version=1, state="{}", timed=False, region=case.region)

    def task(element: str, name: str, department: str | None, created: datetime, completed: datetime | None,
             data: dict[str, Any] | None, form_key: str, item: dict[str, Any] | None = None,
             limit: int | None = None) -> dict[str, Any]:
        return dict(id=next(ids), case_id=case.id, element_id=element, name=name, kind="user", lane=None,
                    department=department, assignee=None, state="completed" if completed else "ready",
                    form_key=form_key, item=item, created_at=created, completed_at=completed,
                    completed_by="staff" if completed else None, data=data, error=None,
                    time_limit=f"{limit} working days" if limit else None,
                    due_at=_due(created, limit) if limit else None, sla=None, warn_at=None,
                    clock_started_at=created if limit else None, clock_stopped_at=None, time_rules=None,
                    due_provisional_years=None, prefill=None)

    tasks = [task("Intake", "窗口受理", window, started, case.accepted, {"decision": "accept"}, "intake")]
    for n, i in enumerate(case.items):
        item = {"code": i.code, "name": i.name, "department": i.department, "stage": i.stage, "track": "main",
                "time_limit": f"{i.limit} working days"}
        tasks.append(task("ItemAccept", f"受理审查 · {i.name}", i.department, i.received, i.accepted,
                          {"decision": "accept"}, "intake", item, i.limit))
        tasks.append(task("ItemReview", f"审查决定 · {i.name}", i.department, i.accepted, i.decided,
                          {"decision": "refuse" if i.refused else "approve"}, "approval_decision", item, i.limit))
    for b in range(1, case.batches + 1):
        item = {"code": f"b{b}_aux", "name": f"附属设施{b}", "department": REGIONS[case.region][2]["zj"],
                "stage": "auxiliary", "track": "auxiliary", "batch": b}
        received = case.items[0].decided
        tasks.append(task("ItemReview", f"审查决定 · 附属设施{b}", item["department"], received,
                          received + timedelta(days=1), {"decision": "approve"}, "approval_decision", item))
    if case.closed:
        tasks.append(task("Closure", "办结（移交文件）或终止", None, case.closed - timedelta(hours=1), case.closed,
                          {"outcome": "completed"}, "closure"))
    return case_row, tasks

"""A year of synthetic cases (bench/stats_data.py) inserted as rows through the ORM, so the upkeep
keeps their summary rows; the yearly, savings and department figures are checked against a
computation in this test from the cases' own parameters, with working days counted on
`chinese_calendar` directly. Also the pure percentile and critical-path functions."""
from __future__ import annotations

import statistics as stats
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from bench import stats_data
from engine.domain.access import SYSTEM, Actor
from engine.domain import statistics as figures
from engine.errors import Forbidden
from engine.services import statistics
from engine.adapters.models import Case, Definition, Task
from tests.conftest import deploy_file


@pytest.fixture
def year_of_cases(runtime):
    deploy_file(runtime, "parallel_approval.bpmn")
    generated = stats_data.generate(60, (2025,), seed=7)
    with runtime.unit_of_work() as uow:
        definition_id = uow.session.query(Definition.id).first()[0]
        for case in generated:
            case_row, task_rows = stats_data.rows(case, definition_id)
            uow.session.add(Case(**case_row))
            uow.session.flush()
            uow.session.add_all(Task(**row) for row in task_rows)
        uow.commit()
    return generated


def test_yearly_figures_against_an_independent_computation(runtime, year_of_cases):
    with runtime.unit_of_work(write=False) as uow:
        report = statistics.years(uow, SYSTEM)
    rows = {r["year"]: r for r in report["years"]}
    row = rows[2025]
    # 办结 counts in the year it happened: cases accepted late in 2025 close in 2026
    closed = [c for c in year_of_cases if c.closed and c.closed.year == 2025]
    later = [c for c in year_of_cases if c.closed and c.closed.year == 2026]
    assert (row["year"], row["accepted"], row["closed"]) == (2025, 60, len(closed))
    assert later and (rows[2026]["accepted"], rows[2026]["closed"]) == (0, len(later))
    assert row["investment_total"] == pytest.approx(sum(c.investment for c in year_of_cases))
    assert row["investment_median"] == stats.median(c.investment for c in year_of_cases)
    assert row["phased_share"] == round(sum(1 for c in year_of_cases if c.batches) / 60, 4)
    elapsed = {c.id: stats_data.workdays_between(c.accepted, c.closed) for c in closed}
    assert row["days_median"] == stats.median(elapsed.values())
    by_type: dict[str, list[int]] = {}
    for c in closed:
        by_type.setdefault(c.project_type, []).append(elapsed[c.id])
    assert row["days_median_by_type"] == {t: float(stats.median(v)) for t, v in sorted(by_type.items())}
    stages = Counter(i.stage for c in year_of_cases for i in c.items)
    stages["auxiliary"] = sum(c.batches for c in year_of_cases)
    assert row["items_by_stage"] == {s: n for s, n in sorted(stages.items()) if n}

    with runtime.unit_of_work(write=False) as uow:
        regional = statistics.years(uow, SYSTEM, region="deyang", by_region=True)
    expected = Counter(c.region for c in year_of_cases if c.region in ("deyang", "jingyang"))
    assert {r["region"]: r["accepted"] for r in regional["years"] if r["year"] == 2025} == dict(expected)


def test_savings_and_department_figures_against_an_independent_computation(runtime, year_of_cases):
    closed = [c for c in year_of_cases if c.closed]
    with runtime.unit_of_work(write=False) as uow:
        saved = statistics.savings(uow, SYSTEM, first=datetime(2025, 1, 1).date(), last=datetime(2026, 12, 31).date())
    limits = sum(i.limit for c in closed for i in c.items)
    serial = sum(stats_data.workdays_between(i.received, i.decided) for c in closed for i in c.items)
    serial += sum(c.batches * stats_data.workdays_between(c.items[0].decided, c.items[0].decided + timedelta(days=1))
                  for c in closed)  # each batch's auxiliary item: a day after the first item's decision
    elapsed = sum(stats_data.workdays_between(c.accepted, c.closed) for c in closed)
    assert (saved["cases"], saved["serial_limit_days"], saved["serial_actual_days"], saved["elapsed_days"]) == \
        (len(closed), limits, serial, elapsed)
    assert saved["saving_vs_serial_percent"] == round((serial - elapsed) * 100 / serial, 1)

    first, last = datetime(2025, 1, 1).date(), datetime(2025, 6, 30).date()
    with runtime.unit_of_work(write=False) as uow:
        report = statistics.department_performance(uow, SYSTEM, first=first, last=last)
    rows = {r["department"]: r for r in report["departments"]}

    def in_period(moment: datetime) -> bool:
        return first <= moment.astimezone(stats_data.CST).date() <= last

    decided = [i for c in year_of_cases for i in c.items if i.department == "county.zrzyj" and in_period(i.decided)]
    used = [stats_data.workdays_between(i.received, i.decided) for i in decided]
    zjj = rows["county.zrzyj"]
    assert zjj["decided"] == len(decided) and zjj["refused"] == sum(i.refused for i in decided)
    assert zjj["days_median"] == stats.median(used)
    assert zjj["days_p90"] == pytest.approx(stats.quantiles(used, n=10, method="inclusive")[8])
    on_time = [i.decided <= stats_data.at(stats_data.add_workdays(i.accepted.date(), i.limit), 17, 30)
               and i.accepted <= stats_data.at(stats_data.add_workdays(i.received.date(), i.limit), 17, 30)
               for i in decided]
    assert zjj["on_time_share"] == round(sum(on_time) / len(on_time), 4)
    received = [i for c in year_of_cases for i in c.items if i.department == "county.zrzyj" and in_period(i.received)]
    assert zjj["received"] == len(received)


def test_scope_of_the_statistics(runtime, year_of_cases):
    with runtime.unit_of_work(write=False) as uow:
        with pytest.raises(Forbidden):
            statistics.years(uow, Actor("alice", "agent"))
        with pytest.raises(Forbidden):
            statistics.savings(uow, Actor("wang", "staff", "county.fgj"))
        own = statistics.years(uow, Actor("gov", "government", "jingyang.zf"), by_region=True)
        assert {r["region"] for r in own["years"]} == {"jingyang"}
        with pytest.raises(Forbidden):
            statistics.years(uow, Actor("gov", "government", "jingyang.zf"), region="pidu")


def test_percentiles_interpolate_between_ranks_as_postgresql_does():
    values = [3, 1, 4, 1, 5, 9, 2, 6]
    counts = figures.histogram(values)
    assert figures.median(counts) == stats.median(values)
    for q in (0.1, 0.25, 0.9):
        expected = stats.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]
        assert figures.percentile(counts, q) == pytest.approx(expected)
    assert figures.percentile(Counter(), 0.5) is None and figures.percentile({7: 1}, 0.9) == 7


def test_the_critical_path_follows_what_each_item_waited_for():
    t0 = datetime(2026, 3, 2, 1, tzinfo=timezone.utc)

    def span(key: str, start: int, end: int) -> figures.Span:
        return figures.Span(key, key, None, None, t0 + timedelta(days=start), t0 + timedelta(days=end),
                            end - start, end - start, 20, 0, "approved")

    spans = [span("a", 0, 5), span("b", 0, 9), span("eia", 0, 12), span("c", 9, 14), span("d", 9, 11),
             span("e", 14, 20)]
    assert [s.key for s in figures.critical_path(spans)] == ["b", "c", "e"]
    timing = figures.case_timing(t0, t0 + timedelta(days=21), spans, lambda a, b: (b - a).days)
    assert (timing.serial_actual_days, timing.critical_days, timing.elapsed_days) == (39, 20, 21)
    assert timing.savings()["vs_serial_percent"] == round(18 * 100 / 39, 1)


def test_an_items_figures_from_its_tasks():
    """Deemed consent is on time though decided at the limit; the enterprise's 补正 and a stopped
    clock are not the body's days; a body's 补正 request is counted."""
    day = [datetime(2026, 3, d, 2, tzinfo=timezone.utc) for d in range(1, 32)]
    wd = lambda a, b: (b.date() - a.date()).days  # noqa: E731 - every day a working day here
    tasks = [
        figures.TaskFact("county.zjj", "completed", day[2], day[3], "accept", due_at=day[9],
                         time_limit="15 working days"),
        figures.TaskFact("county.zjj", "completed", day[3], day[5], "correction", due_at=day[9]),
        figures.TaskFact(None, "completed", day[5], day[9], clock_stop=True),
        figures.TaskFact("county.zjj", "completed", day[9], day[20], "approve", deemed=True, due_at=day[19],
                         stops=((day[12], day[14]),)),
    ]
    result = figures.item_figures(tasks, wd, lambda received, limit: received + timedelta(days=15), day[25])
    assert (result.outcome, result.received_at, result.decided_at) == ("approved", day[2], day[20])
    assert (result.days_used, result.elapsed_days, result.stop_days) == (1 + 2 + 11 - 2, 18, 4 + 2)
    assert (result.on_time, result.deemed, result.corrections, result.limit_days) == (True, True, 1, 15)
    refused = figures.item_figures(tasks[:1] + [figures.TaskFact("county.zjj", "completed", day[3], day[4], "refuse"),
                                                figures.TaskFact(None, "ready", day[4])], wd,
                                   lambda r, t: None, day[25])
    assert (refused.outcome, refused.refusals, refused.limit_days) == ("refused", 1, None)
    open_ = figures.item_figures([figures.TaskFact("county.zjj", "ready", day[2])], wd, lambda r, t: None, day[25])
    assert (open_.outcome, open_.decided_at, open_.days_used) == ("open", None, None)

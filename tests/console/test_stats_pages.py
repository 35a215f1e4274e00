"""The console's supervision pages (issue 14) on the hand-checked cases of
tests/scenarios/test_statistics.py: overview with the saving, the sortable league table, the
pygal charts, CSV downloads, the case page's timing, and who may open them."""
from __future__ import annotations

import csv
import io

from tests.console.conftest import Browser, People
from tests.scenarios.test_statistics import cases, story  # noqa: F401 (fixtures)

MARCH = "from=2026-03-01&to=2026-03-31"


def signed_in(story, runtime, name: str, role: str, department: str | None = None) -> Browser:  # noqa: F811
    People(runtime).add(name, role, department)
    browser = Browser(story.client.application)
    assert browser.sign_in(name).status_code == 303
    return browser


def test_overview_league_table_charts_and_csv(story, cases, runtime):  # noqa: F811
    boss = signed_in(story, runtime, "boss", "admin")
    overview = boss.get(f"/console/stats?{MARCH}")
    text = overview.get_data(as_text=True)
    assert overview.status_code == 200 and "并联审批节省 56%" in text and "2 个项目办结" in text
    assert "/console/stats/charts/savings.svg" in text and "<script" not in text.split("<main", 1)[1]
    chart = boss.get(f"/console/stats/charts/savings.svg?{MARCH}")
    svg = chart.get_data(as_text=True)
    assert chart.mimetype == "image/svg+xml" and "郫都区" in svg and "<script" not in svg and "pygal" in svg

    with runtime.unit_of_work(write=False) as uow:
        names = {code: uow.organisation.get(code).name_zh for code in
                 ("county.sthjj", "county.zrzyj", "city.zrzyj", "county.fgj")}
    league = boss.get(f"/console/stats/departments?{MARCH}&sort=days_median&dir=desc").get_data(as_text=True)
    positions = [league.index(f"<td>{names[c]}</td>") for c in ("county.sthjj", "county.zrzyj", "city.zrzyj",
                                                                    "county.fgj")]
    assert positions == sorted(positions)  # 7, 4, 3.5, 2 working days: slowest first
    assert 'aria-sort="descending"' in league
    ascending = boss.get(f"/console/stats/departments?{MARCH}&sort=days_median&dir=asc").get_data(as_text=True)
    assert ascending.index(names["county.fgj"]) < ascending.index(names["county.sthjj"])
    assert boss.get(f"/console/stats/departments?sort=nonsense").status_code == 422
    days = boss.get(f"/console/stats/charts/department-days.svg?{MARCH}").get_data(as_text=True)
    assert names["county.sthjj"] in days and "用时中位数" in days

    download = boss.get(f"/console/stats/departments.csv?{MARCH}")
    rows = list(csv.DictReader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert download.data.startswith(b"\xef\xbb\xbf") and {r["部门"] for r in rows} >= set(names.values())

    case_page = boss.get(f"/console/cases/{cases['A']}").get_data(as_text=True)
    assert "并联审批节省 59%" in case_page and "关键路径（8 个工作日）" in case_page


def test_who_opens_the_statistics_pages(story, cases, runtime):  # noqa: F811
    staff = signed_in(story, runtime, "fgj-staff", "staff", "county.fgj")
    response = staff.client.get(f"/console/stats?{MARCH}")
    assert response.status_code == 303 and "/console/stats/departments" in response.headers["Location"]
    own = staff.get(f"/console/stats/departments?{MARCH}").get_data(as_text=True)
    assert own.count("<td class=\"num\">1</td><td>") == 1  # one row: its own body
    agent = signed_in(story, runtime, "agent-2", "agent")
    assert agent.get("/console/stats/departments").status_code == 403
    assert "统计考核" not in agent.get("/console/").get_data(as_text=True)

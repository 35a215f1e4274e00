"""Issue 10 calendar years over HTTP and the CLI: due_provisional on tasks, cases and clocks;
PUT /calendar/{year} and `onewindow calendar load` report what they moved; `calendar list`."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from api.app import create_app
from tests.conftest import deploy_file
from tests.engine.test_calendar_years import OFFICIAL_2027

CST = timezone(timedelta(hours=8))


def dates(tasks, key="due_at"):
    """department → (due instant, provisional), whatever offset the API wrote it in."""
    return {t.get("department") or t.get("task_id"): (datetime.fromisoformat(t[key]), t["due_provisional"])
            for t in tasks}


@pytest.fixture
def cli(runtime):
    runner = create_app(runtime=runtime).test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def _open_case(client, api_users, runtime, clock, key="2026-510117-34-01-000010"):
    clock.set(datetime(2026, 12, 10, 9, tzinfo=CST))
    deploy_file(runtime, "time_items.bpmn")
    started = client.post("/api/v1/cases", headers=api_users.header("alice"), json={
        "process_key": "time_items", "business_key": key,
        "variables": {"items": [{"department": "county.fgj", "time_limit": "20 working days"},
                                {"department": "county.zrzyj", "time_limit": "3 working days"}]}})
    assert started.status_code == 201, started.get_json()
    return started.get_json()


def test_provisional_dates_over_http(client, api_users, runtime, clock):
    case = _open_case(client, api_users, runtime, clock)
    assert dates(case["open_tasks"]) == {"county.fgj": (datetime(2027, 1, 8, 17, 30, tzinfo=CST), True),
                                         "county.zrzyj": (datetime(2026, 12, 15, 17, 30, tzinfo=CST), False)}
    inbox = client.get("/api/v1/tasks", headers=api_users.header("fgj"), query_string={"sort": "due"})
    assert [t["due_provisional"] for t in inbox.get_json()["items"]] == [True]
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=api_users.header("root")).get_json()
    assert sorted(t["due_provisional"] for t in detail["open_tasks"]) == [False, True]
    stop = client.post(f"/api/v1/cases/{case['id']}/clock/stop", headers=api_users.header("root"),
                       json={"kind": "expert_review"})
    assert sorted(i["due_provisional"] for i in stop.get_json()["items"]) == [False, True]

    assert client.put("/api/v1/calendar/2027", json=OFFICIAL_2027,
                      headers=api_users.header("fgj")).status_code == 403
    put = client.put("/api/v1/calendar/2027", json=OFFICIAL_2027, headers=api_users.header("root"))
    assert put.status_code == 200
    assert put.get_json()["recomputed"] == {"years": [2027], "tasks_checked": 1, "tasks_changed": 1,
                                            "escalations_changed": 0, "cases": 1}
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=api_users.header("root")).get_json()
    assert dates(detail["open_tasks"]) == {
        "county.fgj": (datetime(2027, 1, 9, 17, 30, tzinfo=CST), False),  # the stopped clock's date, official
        "county.zrzyj": (datetime(2026, 12, 15, 17, 30, tzinfo=CST), False)}
    history = client.get(f"/api/v1/cases/{case['id']}/history", headers=api_users.header("root"),
                         query_string={"per_page": 200}).get_json()["items"]
    [event] = [e for e in history if e["type"] == "due_recomputed"]
    assert event["data"]["due_at"]["after"] == "2027-01-09T17:30:00+08:00"


def test_calendar_cli_reports_what_a_load_moved(client, api_users, runtime, clock, cli, tmp_path):
    _open_case(client, api_users, runtime, clock)
    listed = cli("calendar", "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].startswith("2025  official") and lines[2].startswith("2027  provisional")
    assert lines[-1] == "2031  missing"
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(OFFICIAL_2027, ensure_ascii=False), encoding="utf-8")
    loaded = cli("calendar", "load", str(path))
    assert loaded.exit_code == 0, loaded.output
    assert "recomputed 1 provisional due dates: 1 tasks changed in 1 cases" in loaded.output
    assert cli("calendar", "list").output.splitlines()[2].startswith("2027  official    v1 loaded")
    again = cli("calendar", "recompute")
    assert again.exit_code == 0 and "recomputed 0 provisional due dates" in again.output

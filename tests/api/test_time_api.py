"""Issue 5 over HTTP and the CLI: calendar GET/PUT/due, escalations list, clock stops."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from api.app import create_app
from engine.services import timers
from tests.conftest import deploy_file


@pytest.fixture
def cli(runtime):
    runner = create_app(runtime=runtime).test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_calendar_over_http(client, api_users):
    root, staff = api_users.header("root"), api_users.header("fgj")
    got = client.get("/api/v1/calendar/2026", headers=staff)
    assert got.status_code == 200 and "2026-02-28" in got.get_json()["workdays"]
    assert got.get_json()["version"] == 1
    provisional = client.get("/api/v1/calendar/2027", headers=staff)
    assert provisional.status_code == 200 and provisional.get_json()["status"] == "provisional"
    assert provisional.get_json()["version"] is None and provisional.get_json()["workdays"] == []
    missing = client.get("/api/v1/calendar/2031", headers=staff)
    assert missing.status_code == 422 and "no working-day calendar for 2031" in missing.get_json()["detail"]
    body = {"year": 2027, "holidays": ["2027-01-01"], "workdays": [], "source": "test"}
    assert client.put("/api/v1/calendar/2027", json=body, headers=staff).status_code == 403
    assert client.put("/api/v1/calendar/2026", json=body, headers=root).status_code == 422
    bad = client.put("/api/v1/calendar/2027", json={**body, "holidays": ["2027-02-30"]}, headers=root)
    assert bad.status_code == 422 and "holidays[0]" in bad.get_json()["errors"]
    put = client.put("/api/v1/calendar/2027", json=body, headers=root)
    assert put.status_code == 200 and put.get_json()["version"] == 1 and put.get_json()["loaded_by"] == "root"
    assert put.get_json()["status"] == "official" and put.get_json()["recomputed"]["tasks_changed"] == 0
    listed = client.get("/api/v1/calendar", headers=staff).get_json()["items"]
    assert [(y["year"], y["status"]) for y in listed] == [
        (2025, "official"), (2026, "official"), (2027, "official"), (2028, "provisional"),
        (2029, "provisional"), (2030, "provisional"), (2031, "missing")]
    due = client.get("/api/v1/calendar/due", headers=staff,
                     query_string={"from": "2026-09-30T17:00+08:00", "duration": "5 working days"})
    assert due.status_code == 200 and due.get_json()["due"].startswith("2026-10-13T17:30:00+08:00")
    assert client.get("/api/v1/calendar/due", headers=staff,
                      query_string={"from": "2026-09-30T17:00", "duration": "5 working days"}).status_code == 422
    assert client.get("/api/v1/calendar/due", headers=staff,
                      query_string={"from": "2031-01-03T09:00+08:00", "duration": "1 wd"}).status_code == 422
    assert client.get("/api/v1/calendar/due", headers=staff,
                      query_string={"from": "2026-01-03T09:00+08:00", "duration": "soon"}).status_code == 422
    assert client.get("/api/v1/calendar/2026").status_code == 401


def test_calendar_cli_load_and_due(cli, tmp_path):
    out = cli("calendar", "due", "2026-09-30T17:00+08:00", "5 working days")
    assert out.exit_code == 0 and out.output.strip() == "2026-10-13T17:30+08:00"
    provisional = cli("calendar", "due", "2027-01-04T09:00+08:00", "1 working day")
    assert provisional.exit_code == 0
    assert provisional.output.strip() == "2027-01-05T17:30+08:00 (预计: provisional 2027 calendar)"
    missing = cli("calendar", "due", "2031-01-06T09:00+08:00", "1 working day")
    assert missing.exit_code == 1 and "no working-day calendar for 2031" in missing.output
    path = tmp_path / "2027.json"
    path.write_text(json.dumps({"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-02-06"],
                                "source": "国务院办公厅通知"}), encoding="utf-8")
    loaded = cli("calendar", "load", str(path))
    assert loaded.exit_code == 0 and "calendar 2027 v1 loaded" in loaded.output
    assert "nothing to recompute" in loaded.output
    assert cli("calendar", "load", str(path)).output.startswith("calendar 2027 v2")
    assert cli("calendar", "due", "2026-12-31T09:00+08:00", "1 working day").output.strip() == "2027-01-04T17:30+08:00"
    shown = json.loads(cli("calendar", "show", "2027").output)
    assert shown["workdays"] == ["2027-02-06"] and shown["version"] == 2
    path.write_text(json.dumps({"year": 2027, "holidays": ["2027-13-01"]}), encoding="utf-8")
    bad = cli("calendar", "load", str(path))
    assert bad.exit_code == 1 and "holidays[0]" in bad.output


def test_escalations_and_clock_over_http(client, api_users, runtime, clock):
    deploy_file(runtime, "time_limits.bpmn")
    started = client.post("/api/v1/cases", headers=api_users.header("alice"),
                          json={"process_key": "time_limits", "business_key": "2026-510117-34-01-000009"})
    assert started.status_code == 201, started.get_json()
    case_id = started.get_json()["id"]
    stop = client.post(f"/api/v1/cases/{case_id}/clock/stop", headers=api_users.header("fgj"),
                       json={"kind": "correction", "reason": "补正"})
    assert stop.status_code == 200 and stop.get_json()["items"][0]["sla"] == "paused"
    assert client.post(f"/api/v1/cases/{case_id}/clock/stop", headers=api_users.header("fgj"),
                       json={}).status_code == 409
    start = client.post(f"/api/v1/cases/{case_id}/clock/start", headers=api_users.header("alice"),
                        json={"mode": "restart"})
    assert start.status_code == 200 and start.get_json()["items"][0]["sla"] == "normal"
    clock.set(datetime(2026, 3, 20, 9, tzinfo=timezone.utc))
    timers.run_due(runtime)
    api_users.create("zwfw", "staff", "county.zwfw")
    api_users.create("city-gov", "government", "city.zf")
    listed = client.get("/api/v1/escalations", headers=api_users.header("zwfw")).get_json()["items"]
    assert [(e["level"], e["department"]) for e in listed] == [(1, "county.zwfw")]
    assert client.get("/api/v1/escalations", headers=api_users.header("city-gov")).get_json()["items"] == []
    every = client.get("/api/v1/escalations", headers=api_users.header("root"),
                       query_string={"case_id": case_id, "status": "open"}).get_json()["items"]
    assert [e["level"] for e in every] == [1]
    assert client.get("/api/v1/escalations", headers=api_users.header("root"),
                      query_string={"status": "nope"}).status_code == 422
    assert client.post(f"/api/v1/escalations/{listed[0]['id']}/resolve", headers=api_users.header("fgj"),
                       json={}).status_code == 403
    done = client.post(f"/api/v1/escalations/{listed[0]['id']}/resolve", headers=api_users.header("zwfw"),
                       json={"note": "协调完成"})
    assert done.status_code == 200 and done.get_json()["status"] == "resolved"


def test_inbox_sorts_by_due_date_and_lists_filter_by_warning_state(client, api_users, runtime, clock):
    """A department sees its soonest-due work first; `/tasks?sla=red` and `/cases?overdue=true`
    find what is late once the worker has moved it to red."""
    deploy_file(runtime, "time_limits.bpmn")  # Review: 5 working days at county.fgj
    deploy_file(runtime, "parallel_approval.bpmn")  # no time limits
    alice, fgj = api_users.header("alice"), api_users.header("fgj")

    def start(key: str, business_key: str) -> str:
        got = client.post("/api/v1/cases", headers=alice, json={"process_key": key, "business_key": business_key})
        assert got.status_code == 201, got.get_json()
        return got.get_json()["id"]

    untimed = start("parallel_approval", "2026-510117-34-01-000001")
    clock.advance(days=1)
    late = start("time_limits", "2026-510117-34-01-000002")
    clock.advance(days=2)
    later = start("time_limits", "2026-510117-34-01-000003")

    def inbox(**query):  # type: ignore[no-untyped-def]
        got = client.get("/api/v1/tasks", headers=fgj, query_string={"department": "county.fgj", **query})
        assert got.status_code == 200, got.get_json()
        return [t["case_id"] for t in got.get_json()["items"]]

    assert inbox() == [untimed, late, later]  # default: oldest first
    assert inbox(sort="due") == [late, later, untimed]  # soonest due first, no limit last
    assert inbox(sla="red") == []

    clock.set(datetime(2026, 3, 11, 10, tzinfo=timezone.utc))  # 18:00 on 11 March: one late, one near
    timers.run_due(runtime)
    assert inbox(sla="red") == [late] and inbox(sla="normal") == []
    assert set(inbox(sla="yellow")) == {later}
    root = api_users.header("root")
    overdue = client.get("/api/v1/cases", headers=root, query_string={"overdue": "true"}).get_json()
    assert [c["id"] for c in overdue["items"]] == [late] and overdue["total"] == 1
    on_time = client.get("/api/v1/cases", headers=root, query_string={"overdue": "false"}).get_json()
    assert {c["id"] for c in on_time["items"]} == {untimed, later}

    for bad in ({"sla": "purple"}, {"sort": "priority"}):
        wrong = client.get("/api/v1/tasks", headers=fgj, query_string=bad)
        assert wrong.status_code == 422 and set(wrong.get_json()["errors"]) == set(bad)
    assert client.get("/api/v1/cases", headers=root, query_string={"overdue": "maybe"}).status_code == 422

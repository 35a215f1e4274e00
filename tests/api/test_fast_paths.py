"""The request paths made faster for issue 6 answer exactly as before: a case start's open tasks
come from the unit of work, a chosen definition version is found by id, a case's variables are
cached per saved state, and a department's inbox is counted without joining cases."""
from __future__ import annotations

from tests.api.conftest import PROJECT_CODE
from tests.conftest import BPMN

V1 = "/api/v1"


def _deploy_two_versions(client, api_users) -> None:
    data = (BPMN / "parallel_approval.bpmn").read_bytes()
    headers = {**api_users.header("dora"), "Content-Type": "application/xml"}
    assert client.post(f"{V1}/process-definitions", data=data, headers=headers).status_code == 201
    changed = data.replace(b'name="Parallel approval"', b'name="Parallel approval v2"')
    assert client.post(f"{V1}/process-definitions", data=changed, headers=headers).status_code == 201


def _start(client, api_users, **body):
    return client.post(f"{V1}/cases", json={"process_key": "parallel_approval", "business_key": PROJECT_CODE,
                                            **body}, headers=api_users.header("alice"))


def test_start_returns_the_same_open_tasks_as_a_fresh_read(client, api_users):
    _deploy_two_versions(client, api_users)
    started = _start(client, api_users, version=1)
    assert started.status_code == 201
    body = started.get_json()
    assert body["process_version"] == 1
    listed = client.get(f"{V1}/tasks", query_string={"case_id": body["id"], "per_page": 200},
                        headers=api_users.header("root")).get_json()["items"]
    assert body["open_tasks"] == listed and len(listed) == 3
    again = _start(client, api_users)  # the existing open case: its tasks are read from the database
    assert again.status_code == 200 and again.get_json()["open_tasks"] == body["open_tasks"]


def test_start_of_the_latest_and_of_unknown_definitions(client, api_users):
    _deploy_two_versions(client, api_users)
    assert _start(client, api_users).get_json()["process_version"] == 2
    unknown_version = _start(client, api_users, business_key="other", version=7)
    assert unknown_version.status_code == 404
    assert "version 7 is not deployed" in unknown_version.get_json()["detail"]
    unknown_key = _start(client, api_users, process_key="nope", business_key="other")
    assert unknown_key.status_code == 404 and "'nope'" in unknown_key.get_json()["detail"]


def test_case_variables_follow_every_change(client, api_users, deploy, start_case):
    deploy("parallel_approval.bpmn")
    case = start_case()
    first = client.get(f"{V1}/cases/{case['id']}", headers=api_users.header("alice")).get_json()
    assert client.get(f"{V1}/cases/{case['id']}", headers=api_users.header("alice")).get_json() == first
    assert "decision" not in first["variables"]
    task = next(t for t in case["open_tasks"] if t["department"] == "county.fgj")
    done = client.post(f"{V1}/tasks/{task['id']}/complete", json={"data": {"decision": "approve"}},
                       headers=api_users.header("fgj"))
    assert done.status_code == 200
    after = client.get(f"{V1}/cases/{case['id']}", headers=api_users.header("alice")).get_json()
    assert after["variables"]["decision"] == "approve"
    assert [t["id"] for t in after["completed_tasks"]] == [task["id"]]
    # staff of a department with a task see the case (their rows only); others may not
    fgj = client.get(f"{V1}/cases/{case['id']}", headers=api_users.header("fgj"))
    assert fgj.status_code == 200 and {t["department"] for t in fgj.get_json()["completed_tasks"]} == {"county.fgj"}
    assert fgj.get_json()["variables"] == after["variables"]


def test_inbox_and_its_count_for_every_role(client, api_users, deploy, start_case):
    deploy("parallel_approval.bpmn")
    start_case()
    start_case(business_key="2026-510117-34-01-000002", agent="bob")
    for who, expected in (("fgj", 2), ("root", 6), ("alice", 3), ("bob", 3)):
        page = client.get(f"{V1}/tasks", query_string={"per_page": 1}, headers=api_users.header(who)).get_json()
        assert page["total"] == expected, who
        assert len(page["items"]) == 1
    by_key = client.get(f"{V1}/tasks", query_string={"process_key": "parallel_approval"},
                        headers=api_users.header("alice")).get_json()
    assert by_key["total"] == 3
    everything = client.get(f"{V1}/tasks", query_string={"state": "all"}, headers=api_users.header("root")).get_json()
    assert everything["total"] == 6

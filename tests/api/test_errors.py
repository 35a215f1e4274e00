"""Error statuses: every error is problem+json, bad input is never a 500 and never changes anything."""
from __future__ import annotations

import pytest

from tests.api.conftest import PROJECT_CODE

V1 = "/api/v1"


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"] == "about:blank"
    return body


@pytest.fixture
def case(deploy, start_case):
    deploy("parallel_approval.bpmn")
    return start_case()


def history_length(client, api_users, case_id):
    return client.get(f"{V1}/cases/{case_id}/history", headers=api_users.header("root")).get_json()["total"]


def test_401_without_token(client):
    body = problem(client.get(f"{V1}/cases"), 401)
    assert "bearer" in body["detail"].lower()


def test_404_unknown_path_and_ids(client, api_users):
    problem(client.get(f"{V1}/nowhere"), 404)
    problem(client.get(f"{V1}/cases/nope", headers=api_users.header("root")), 404)
    problem(client.get(f"{V1}/tasks/nope", headers=api_users.header("root")), 404)
    problem(client.post(f"{V1}/tasks/nope/complete", json={}, headers=api_users.header("root")), 404)
    problem(client.post(f"{V1}/cases/nope/suspend", json={}, headers=api_users.header("root")), 404)
    problem(client.get(f"{V1}/cases/a%00b", headers=api_users.header("root")), 404)
    problem(client.get(f"{V1}/process-definitions/x/versions/99999999999", headers=api_users.header("root")), 404)


def test_405_wrong_method(client, api_users):
    problem(client.delete(f"{V1}/cases", headers=api_users.header("root")), 405)
    problem(client.put(f"{V1}/tasks", headers=api_users.header("root")), 405)


def test_400_malformed_json_changes_nothing(client, api_users, case):
    before = history_length(client, api_users, case["id"])
    for raw in (b"{", b"{'a': 1}", b"\xff\xfe", b'{"data": NaN}'):
        problem(client.post(f"{V1}/tasks/{case['open_tasks'][0]['id']}/complete", data=raw,
                            headers={**api_users.header("root"), "Content-Type": "application/json"}), 400)
    problem(client.post(f"{V1}/cases", data=b"[1,", content_type="application/json",
                        headers=api_users.header("alice")), 400)
    assert history_length(client, api_users, case["id"]) == before


def test_415_non_json_bodies(client, api_users, case):
    task = case["open_tasks"][0]
    problem(client.post(f"{V1}/tasks/{task['id']}/complete", data="data=1",
                        content_type="application/x-www-form-urlencoded", headers=api_users.header("root")), 415)
    problem(client.post(f"{V1}/cases", data='{"process_key": "x"}', content_type="text/plain",
                        headers=api_users.header("alice")), 415)
    problem(client.post(f"{V1}/cases/{case['id']}/cancel", data="<reason/>", content_type="application/xml",
                        headers=api_users.header("alice")), 415)
    problem(client.post(f"{V1}/messages", data="x", headers=api_users.header("alice")), 415)
    ready = client.get(f"{V1}/tasks?case_id={case['id']}", headers=api_users.header("root")).get_json()
    assert ready["total"] == 3


def test_413_too_large(client, api_users, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    problem(client.post(f"{V1}/process-definitions", data=b"<x>" + b" " * 4096 + b"</x>",
                        headers={**api_users.header("dora"), "Content-Type": "application/xml"}), 413)
    problem(client.post(f"{V1}/cases", json={"process_key": "x" * 4096, "business_key": "y"},
                        headers=api_users.header("alice")), 413)


@pytest.mark.parametrize("body", [
    {},
    {"process_key": "parallel_approval"},
    {"process_key": "parallel_approval", "business_key": ""},
    {"process_key": "parallel_approval", "business_key": "   "},
    {"process_key": "parallel_approval", "business_key": "x" * 121},
    {"process_key": "parallel_approval", "business_key": 5},
    {"process_key": "parallel_approval", "business_key": "k", "variables": []},
    {"process_key": "parallel_approval", "business_key": "k", "project": "p"},
    {"process_key": "parallel_approval", "business_key": "k", "project": {"project_name": {"a": 1}}},
    {"process_key": "parallel_approval", "business_key": "k", "unknown": 1},
    {"process_key": "parallel_approval", "business_key": "k\u0000"},
    {"process_key": "parallel_approval", "business_key": "k", "version": 0},
    [],
])
def test_422_invalid_case_input_changes_nothing(client, api_users, deploy, body):
    deploy("parallel_approval.bpmn")
    body_problem = problem(client.post(f"{V1}/cases", json=body, headers=api_users.header("alice")), 422)
    assert body_problem["errors"]
    assert client.get(f"{V1}/cases", headers=api_users.header("root")).get_json()["total"] == 0


def test_422_form_errors_list_every_field(client, api_users, case, runtime):
    task = case["open_tasks"][0]
    problem(client.post(f"{V1}/tasks/{task['id']}/complete", json={"data": "approve"},
                        headers=api_users.header("root")), 422)
    problem(client.post(f"{V1}/tasks/{task['id']}/complete", json={"data": {}, "extra": 1},
                        headers=api_users.header("root")), 422)
    problem(client.get(f"{V1}/tasks?state=nope", headers=api_users.header("root")), 422)
    problem(client.get(f"{V1}/tasks?per_page=abc", headers=api_users.header("root")), 422)
    still = client.get(f"{V1}/tasks/{task['id']}", headers=api_users.header("root")).get_json()
    assert still["state"] == "ready"


def test_409_conflicts(client, api_users, case):
    task = next(t for t in case["open_tasks"] if t["department"] == "county.fgj")
    fgj = api_users.header("fgj")
    assert client.post(f"{V1}/tasks/{task['id']}/claim", headers=api_users.header("fgj2")).status_code == 200
    problem(client.post(f"{V1}/tasks/{task['id']}/complete", json={}, headers=fgj), 409)
    problem(client.post(f"{V1}/tasks/{task['id']}/claim", headers=fgj), 409)
    assert client.post(f"{V1}/tasks/{task['id']}/complete", json={}, headers=api_users.header("fgj2")).status_code == 200
    problem(client.post(f"{V1}/tasks/{task['id']}/complete", json={}, headers=api_users.header("fgj2")), 409)
    problem(client.post(f"{V1}/cases/{case['id']}/resume", json={}, headers=api_users.header("alice")), 409)
    problem(client.post(f"{V1}/cases/{case['id']}/messages", json={"name": "x"}, headers=api_users.header("alice")), 409)
    again = client.post(f"{V1}/cases", json={"process_key": "parallel_approval", "business_key": PROJECT_CODE},
                        headers=api_users.header("alice"))
    assert again.status_code == 200


def test_unknown_process_is_404(client, api_users):
    problem(client.post(f"{V1}/cases", json={"process_key": "nope", "business_key": "k"},
                        headers=api_users.header("alice")), 404)

"""The permission matrix of docs/api.md, cell by cell: each (operation, who) pair in a fresh database.

Who: admin; designer; the case's own agent; another agent; staff of the task's department; staff of a
department with no task in the case; the department's leader; government; anonymous (no token).
"""
from __future__ import annotations

import pytest

V1 = "/api/v1"
WHO = ["admin", "designer", "agent", "other_agent", "staff", "other_staff", "leader", "government", "anonymous"]
USER = {"admin": "root", "designer": "dora", "agent": "alice", "other_agent": "bob", "staff": "fgj",
        "other_staff": "zjj", "leader": "fgj-leader", "government": "gov", "anonymous": None}
MSG_KEY = "2026-510117-34-01-000777"


def row(*codes: int) -> dict[str, int]:
    return dict(zip(WHO, codes))


#            op: (method, path, json body, prepare, expected by WHO)
#                                                       admin desi agent oagt staff ostf lead  gov  anon
MATRIX = {
    "deploy": ("POST", "/process-definitions", "bpmn", None, row(201, 201, 403, 403, 403, 403, 403, 403, 401)),
    "list definitions": ("GET", "/process-definitions", None, None, row(200, 200, 200, 200, 200, 200, 200, 200, 401)),
    "get definition": ("GET", "/process-definitions/parallel_approval", None, None,
                       row(200, 200, 200, 200, 200, 200, 200, 200, 401)),
    "get version": ("GET", "/process-definitions/parallel_approval/versions/1?include=xml", None, None,
                    row(200, 200, 200, 200, 200, 200, 200, 200, 401)),
    "start case": ("POST", "/cases", {"process_key": "parallel_approval", "business_key": "2026-510117-34-01-000555"},
                   None, row(201, 403, 201, 201, 403, 403, 403, 403, 401)),
    "list cases": ("GET", "/cases", None, None, row(200, 403, 200, 200, 200, 200, 200, 200, 401)),
    "get case": ("GET", "/cases/{case}", None, None, row(200, 403, 200, 403, 200, 403, 200, 200, 401)),
    "case history": ("GET", "/cases/{case}/history", None, None, row(200, 403, 200, 403, 200, 403, 200, 200, 401)),
    "suspend": ("POST", "/cases/{case}/suspend", {"reason": "r"}, None,
                row(200, 403, 200, 403, 403, 403, 403, 403, 401)),
    "resume": ("POST", "/cases/{case}/resume", {"reason": "r"}, "suspend",
               row(200, 403, 200, 403, 403, 403, 403, 403, 401)),
    "cancel": ("POST", "/cases/{case}/cancel", {"reason": "r"}, None,
               row(200, 403, 200, 403, 403, 403, 403, 403, 401)),
    "message to case": ("POST", "/cases/{msg_case}/messages", {"name": "materials_supplied"}, None,
                        row(200, 403, 200, 403, 403, 403, 403, 403, 401)),
    "correlated message": ("POST", "/messages", {"name": "materials_supplied", "business_key": MSG_KEY}, None,
                           row(200, 403, 200, 403, 403, 403, 403, 403, 401)),
    # the parallel case takes no batches: 409 means the permission check let the caller through
    "submit batch": ("POST", "/cases/{case}/batches", {"facility": "门卫室", "items": [
        {"name": "门卫室规划许可", "department": "county.zrzyj", "time_limit": "10 working days"}]}, None,
        row(409, 403, 409, 403, 403, 403, 403, 403, 401)),
    "list batches": ("GET", "/cases/{case}/batches", None, None, row(200, 403, 200, 403, 200, 403, 200, 200, 401)),
    "list tasks": ("GET", "/tasks", None, None, row(200, 403, 200, 200, 200, 200, 200, 200, 401)),
    "list tasks of a department": ("GET", "/tasks?department=county.fgj", None, None,
                                   row(200, 403, 200, 200, 200, 403, 200, 200, 401)),
    "get task": ("GET", "/tasks/{task}", None, None, row(200, 403, 200, 403, 200, 403, 200, 200, 401)),
    "claim task": ("POST", "/tasks/{task}/claim", None, None, row(200, 403, 403, 403, 200, 403, 200, 403, 401)),
    "unclaim task": ("POST", "/tasks/{task}/unclaim", None, None, row(200, 403, 403, 403, 200, 403, 200, 403, 401)),
    "complete task": ("POST", "/tasks/{task}/complete", {"data": {"decision": "approve"}}, None,
                      row(200, 403, 403, 403, 200, 403, 200, 403, 401)),
    "complete agent's task": ("POST", "/tasks/{agent_task}/complete", {"data": {}}, None,
                              row(200, 403, 200, 403, 403, 403, 403, 403, 401)),
    "departments": ("GET", "/departments?level=county", None, None, row(200, 200, 200, 200, 200, 200, 200, 200, 401)),
    "public progress": ("GET", "/public/projects/2026-510117-34-01-000001", None, None,
                        row(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "health": ("GET", "/health", None, None, row(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    # incidents and repairs (issue 9 §2): the world's case has no incident, so a permitted retry is a 409
    "list incidents": ("GET", "/incidents", None, None, row(200, 403, 200, 200, 200, 200, 200, 200, 401)),
    "retry": ("POST", "/cases/{case}/retry", {}, None, row(409, 403, 409, 403, 403, 403, 403, 403, 401)),
    "patch variables": ("PATCH", "/cases/{case}/variables", {"note": "checked"}, None,
                        row(200, 403, 403, 403, 403, 403, 403, 403, 401)),
    "move": ("POST", "/cases/{case}/move", {"from": "Approve_fgj", "to": "Approve_fgj"}, None,
             row(200, 403, 403, 403, 403, 403, 403, 403, 401)),
    # notifications (issue 13): everyone has their own; webhooks are for admins
    "list notifications": ("GET", "/notifications?unread=true", None, None,
                           row(200, 200, 200, 200, 200, 200, 200, 200, 401)),
    "create webhook": ("POST", "/webhooks", {"url": "https://example.org/hook", "events": ["*"]}, None,
                       row(201, 403, 403, 403, 403, 403, 403, 403, 401)),
    "list webhooks": ("GET", "/webhooks", None, None, row(200, 403, 403, 403, 403, 403, 403, 403, 401)),
    "dead letters": ("GET", "/webhooks/dead-letters", None, None, row(200, 403, 403, 403, 403, 403, 403, 403, 401)),
}

CELLS = [(op, who) for op in MATRIX for who in WHO]


@pytest.fixture
def world(client, api_users, deploy, start_case):
    """Two processes, a parallel case with an fgj task, an agent-only task, and a case waiting for a message."""
    api_users.create("zjj", "staff", "county.zjj")  # a body with no task (not the window: it oversees)
    deploy("parallel_approval.bpmn")
    deploy("message_wait.bpmn")
    case = start_case()
    fgj_task = next(t for t in case["open_tasks"] if t["department"] == "county.fgj")
    # a second case run up to its agent-only "Close" task
    other = start_case(business_key="2026-510117-34-01-000002")
    staff = {"county.fgj": "fgj", "county.zrzyj": "root", "county.sthjj": "root"}
    for task in other["open_tasks"]:
        assert client.post(f"{V1}/tasks/{task['id']}/complete", json={"data": {}},
                           headers=api_users.header(staff[task["department"]])).status_code == 200
    [agent_task] = client.get(f"{V1}/tasks?case_id={other['id']}", headers=api_users.header("root")).get_json()["items"]
    msg_case = start_case("message_wait", business_key=MSG_KEY)
    return {"case": case["id"], "task": fgj_task["id"], "agent_task": agent_task["id"], "msg_case": msg_case["id"]}


@pytest.mark.parametrize(("op", "who"), CELLS, ids=[f"{op}-{who}" for op, who in CELLS])
def test_permission_cell(client, api_users, world, op, who):
    from tests.conftest import BPMN
    method, path, body, prepare, expected = MATRIX[op]
    if prepare == "suspend":
        assert client.post(f"{V1}/cases/{world['case']}/suspend", json={},
                           headers=api_users.header("root")).status_code == 200
    headers = api_users.header(USER[who]) if USER[who] else {}
    kwargs: dict = {"headers": headers}
    if body == "bpmn":
        kwargs["data"] = (BPMN / "approval_items.bpmn").read_bytes()
        kwargs["headers"] = {**headers, "Content-Type": "application/xml"}
    elif body is not None:
        kwargs["json"] = body
    response = client.open(V1 + path.format(**world), method=method, **kwargs)
    assert response.status_code == expected[who], response.get_json()
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == response.status_code


def test_agents_and_staff_only_list_what_they_may_see(client, api_users, world):
    alice = client.get(f"{V1}/cases", headers=api_users.header("alice")).get_json()
    assert alice["total"] == 3
    assert client.get(f"{V1}/cases", headers=api_users.header("bob")).get_json()["total"] == 0
    assert client.get(f"{V1}/cases?agent=alice", headers=api_users.header("bob")).status_code == 403
    fgj_cases = client.get(f"{V1}/cases", headers=api_users.header("fgj")).get_json()
    assert fgj_cases["total"] == 2  # the message case has no fgj task
    assert client.get(f"{V1}/cases?department=county.zrzyj", headers=api_users.header("fgj")).status_code == 403
    fgj = client.get(f"{V1}/tasks?state=all", headers=api_users.header("fgj")).get_json()["items"]
    assert fgj and {t["department"] for t in fgj} == {"county.fgj"}
    assert client.get(f"{V1}/tasks", headers=api_users.header("zjj")).get_json()["total"] == 0
    assert client.get(f"{V1}/tasks", headers=api_users.header("bob")).get_json()["total"] == 0
    # a staff member sees only their own department's tasks inside a case
    case = client.get(f"{V1}/cases/{world['case']}", headers=api_users.header("fgj")).get_json()
    assert {t["department"] for t in case["open_tasks"]} == {"county.fgj"}


def test_revoked_and_bad_tokens_are_401(client, api_users, runtime):
    from engine.services import users
    assert client.get(f"{V1}/tasks", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get(f"{V1}/tasks", headers={"Authorization": "Basic abc"}).status_code == 401
    with runtime.unit_of_work() as uow:
        users.revoke_user(uow, "fgj")
        uow.commit()
    response = client.get(f"{V1}/tasks", headers=api_users.header("fgj"))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"

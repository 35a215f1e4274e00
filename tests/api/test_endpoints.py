"""Every path of the API end to end through the Flask test client."""
from __future__ import annotations

import io

from tests.api.conftest import PROJECT_CODE
from tests.conftest import BPMN

V1 = "/api/v1"


def ready_tasks(client, api_users, case_id, who="root"):
    response = client.get(f"{V1}/tasks", query_string={"case_id": case_id}, headers=api_users.header(who))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def complete(client, api_users, task, who, data=None):
    return client.post(f"{V1}/tasks/{task['id']}/complete", json={"data": data or {}},
                       headers=api_users.header(who))


STAFF_OF = {"county.fgj": "fgj", "county.zrzyj": "zrzyj", "county.sthjj": "sthjj"}


def test_health_and_openapi_need_no_token(client):
    health = client.get(f"{V1}/health")
    assert health.status_code == 200 and health.get_json()["status"] == "ok"
    assert client.get(f"{V1}/openapi.json").status_code == 200


def test_deploy_raw_xml_then_identical_bytes(client, api_users):
    data = (BPMN / "parallel_approval.bpmn").read_bytes()
    headers = {**api_users.header("dora"), "Content-Type": "application/xml"}
    first = client.post(f"{V1}/process-definitions", data=data, headers=headers)
    assert first.status_code == 201
    body = first.get_json()
    assert body["key"] == "parallel_approval" and body["version"] == 1 and body["created"] is True
    assert len(body["sha256"]) == 64 and body["definitions"][0]["key"] == "parallel_approval"
    again = client.post(f"{V1}/process-definitions", data=data, headers=headers)
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert again.get_json()["version"] == 1


def test_deploy_multipart_and_new_version(client, api_users):
    data = (BPMN / "parallel_approval.bpmn").read_bytes()
    first = client.post(f"{V1}/process-definitions", headers=api_users.header("dora"),
                        data={"file": (io.BytesIO(data), "parallel_approval.bpmn")},
                        content_type="multipart/form-data")
    assert first.status_code == 201, first.get_json()
    changed = data.replace(b'name="Parallel approval"', b'name="Parallel approval v2"')
    second = client.post(f"{V1}/process-definitions", headers=api_users.header("dora"),
                         data={"file": (io.BytesIO(changed), "parallel_approval.bpmn")},
                         content_type="multipart/form-data")
    assert second.status_code == 201 and second.get_json()["version"] == 2
    listing = client.get(f"{V1}/process-definitions", headers=api_users.header("alice")).get_json()
    assert [(d["key"], d["version"]) for d in listing["items"]] == [("parallel_approval", 2)]
    detail = client.get(f"{V1}/process-definitions/parallel_approval", headers=api_users.header("alice"))
    assert detail.status_code == 200
    assert [v["version"] for v in detail.get_json()["versions"]] == [1, 2]
    v1 = client.get(f"{V1}/process-definitions/parallel_approval/versions/1", headers=api_users.header("alice"))
    assert v1.status_code == 200 and "xml" not in v1.get_json()
    assert v1.get_json()["file_name"] == "parallel_approval.bpmn"
    v1xml = client.get(f"{V1}/process-definitions/parallel_approval/versions/1?include=xml",
                       headers=api_users.header("alice"))
    assert v1xml.get_json()["xml"] == data.decode()
    assert client.get(f"{V1}/process-definitions/parallel_approval/versions/3",
                      headers=api_users.header("alice")).status_code == 404
    assert client.get(f"{V1}/process-definitions/nope", headers=api_users.header("alice")).status_code == 404


def test_invalid_bpmn_is_422_with_line_numbers(client, api_users):
    bad = (BPMN / "parallel_approval.bpmn").read_bytes().replace(b'targetRef="Join"/>', b'targetRef="Nowhere"/>', 1)
    response = client.post(f"{V1}/process-definitions?filename=bad.bpmn", data=bad,
                           headers={**api_users.header("dora"), "Content-Type": "application/xml"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problems = response.get_json()["errors"]["file"]
    assert problems and all(p.startswith("bad.bpmn:") for p in problems)
    not_xml = client.post(f"{V1}/process-definitions", data=b"<not xml",
                          headers={**api_users.header("dora"), "Content-Type": "application/xml"})
    assert not_xml.status_code == 422 and not_xml.get_json()["errors"]["file"]
    empty = client.post(f"{V1}/process-definitions", data=b"",
                        headers={**api_users.header("dora"), "Content-Type": "application/xml"})
    assert empty.status_code == 422
    listing = client.get(f"{V1}/process-definitions", headers=api_users.header("dora")).get_json()
    assert listing["total"] == 0


def test_a_dry_run_checks_and_stores_nothing(client, api_users):
    dora = {**api_users.header("dora"), "Content-Type": "application/xml"}
    data = (BPMN / "parallel_approval.bpmn").read_bytes()
    url = f"{V1}/process-definitions?filename=parallel_approval.bpmn&dry_run=true"
    checked = client.post(url, data=data, headers=dora)
    assert checked.status_code == 200, checked.get_json()
    assert checked.get_json()["dry_run"] is True and checked.get_json()["created"] is True
    assert checked.get_json()["key"] == "parallel_approval" and checked.get_json()["version"] == 1
    assert client.get(f"{V1}/process-definitions", headers=dora).get_json()["total"] == 0
    real = client.post(f"{V1}/process-definitions?filename=parallel_approval.bpmn", data=data, headers=dora)
    assert real.status_code == 201 and real.get_json()["dry_run"] is False
    changed = data.replace(b'name="', b'name="v2 ', 1)
    would = client.post(url, data=changed, headers=dora).get_json()
    assert would["version"] == 2 and would["created"] is True
    latest = client.get(f"{V1}/process-definitions/parallel_approval", headers=dora).get_json()
    assert latest["version"] == 1 and len(latest["versions"]) == 1
    bad = client.post(url, data=data.replace(b'targetRef="Join"/>', b'targetRef="Nowhere"/>', 1), headers=dora)
    assert bad.status_code == 422 and bad.get_json()["errors"]["file"][0].startswith("parallel_approval.bpmn:")
    assert client.post(f"{V1}/process-definitions?dry_run=perhaps", data=data, headers=dora).status_code == 422


def test_deploy_wrong_media_type_is_415(client, api_users):
    response = client.post(f"{V1}/process-definitions", json={"x": 1}, headers=api_users.header("dora"))
    assert response.status_code == 415
    missing = client.post(f"{V1}/process-definitions", data={"other": (io.BytesIO(b"x"), "x.bpmn")},
                          headers=api_users.header("dora"), content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.get_json()["errors"]


def test_case_lifecycle_end_to_end(client, api_users, deploy, start_case):
    deploy("parallel_approval.bpmn")
    started = start_case()
    assert started["created"] is True and started["status"] == "running"
    assert started["name"] == "郫都区新材料产业园"
    assert sorted(t["department"] for t in started["open_tasks"]) == sorted(STAFF_OF)

    again = client.post(f"{V1}/cases", json={"process_key": "parallel_approval", "business_key": PROJECT_CODE},
                        headers=api_users.header("alice"))
    assert again.status_code == 200 and again.headers["X-Onewindow-Existing"] == "true"
    assert again.get_json()["created"] is False and again.get_json()["id"] == started["id"]

    case_id = started["id"]
    # the department inbox
    inbox = client.get(f"{V1}/tasks", query_string={"department": "county.fgj"}, headers=api_users.header("fgj"))
    assert inbox.status_code == 200
    [fgj_task] = inbox.get_json()["items"]
    detail = client.get(f"{V1}/tasks/{fgj_task['id']}", headers=api_users.header("fgj"))
    assert detail.status_code == 200 and "form" in detail.get_json()

    # claim, unclaim, claim, complete
    assert client.post(f"{V1}/tasks/{fgj_task['id']}/claim", headers=api_users.header("fgj")).get_json()["assignee"] == "fgj"
    mine = client.get(f"{V1}/tasks?assignee=me", headers=api_users.header("fgj")).get_json()
    assert [t["id"] for t in mine["items"]] == [fgj_task["id"]]
    assert client.post(f"{V1}/tasks/{fgj_task['id']}/claim", headers=api_users.header("fgj2")).status_code == 409
    assert client.post(f"{V1}/tasks/{fgj_task['id']}/unclaim", headers=api_users.header("fgj")).get_json()["assignee"] is None
    for task in started["open_tasks"]:
        response = complete(client, api_users, task, STAFF_OF[task["department"]], {"decision": "approve"})
        assert response.status_code == 200 and response.get_json()["state"] == "completed", response.get_json()
    assert complete(client, api_users, fgj_task, "fgj").status_code == 409

    case = client.get(f"{V1}/cases/{case_id}", headers=api_users.header("alice")).get_json()
    assert len(case["completed_tasks"]) == 3
    [close] = case["open_tasks"]
    assert close["element_id"] == "Close" and close["assignee"] == "alice"
    assert case["variables"]["decision"] == "approve"
    assert case["project"]["project_name"] == "郫都区新材料产业园"

    public = client.get(f"{V1}/public/projects/{PROJECT_CODE}")
    assert public.status_code == 200
    assert complete(client, api_users, close, "alice").status_code == 200
    done = client.get(f"{V1}/cases/{case_id}", headers=api_users.header("alice")).get_json()
    assert done["status"] == "completed" and done["ended_at"]

    history = client.get(f"{V1}/cases/{case_id}/history", headers=api_users.header("alice")).get_json()
    types = [e["type"] for e in history["items"]]
    assert types[0] == "started" and types[-1] == "completed" and "task_claimed" in types


def test_case_list_filters_and_paging(client, api_users, deploy, start_case):
    deploy("parallel_approval.bpmn")
    ids = []
    for n in range(1, 6):
        ids.append(start_case(business_key=f"2026-510117-34-01-00000{n}", agent="alice" if n % 2 else "bob")["id"])
    admin = api_users.header("root")
    page1 = client.get(f"{V1}/cases?per_page=2&page=1", headers=admin).get_json()
    page2 = client.get(f"{V1}/cases?per_page=2&page=2", headers=admin).get_json()
    page3 = client.get(f"{V1}/cases?per_page=2&page=3", headers=admin).get_json()
    assert page1["total"] == 5 and page1["per_page"] == 2 and page1["page"] == 1
    seen = [c["id"] for p in (page1, page2, page3) for c in p["items"]]
    assert sorted(seen) == sorted(ids) and len(set(seen)) == 5
    assert client.get(f"{V1}/cases?agent=bob", headers=admin).get_json()["total"] == 2
    assert client.get(f"{V1}/cases", headers=api_users.header("alice")).get_json()["total"] == 3
    mine = client.get(f"{V1}/cases?agent=me", headers=api_users.header("bob")).get_json()
    assert mine["total"] == 2 and {c["started_by"] for c in mine["items"]} == {"bob"}
    assert client.get(f"{V1}/cases?business_key=2026-510117-34-01-000002", headers=admin).get_json()["total"] == 1
    assert client.get(f"{V1}/cases?process_key=parallel_approval&status=running",
                      headers=admin).get_json()["total"] == 5
    assert client.get(f"{V1}/cases?status=completed", headers=admin).get_json()["total"] == 0
    assert client.get(f"{V1}/cases?department=county.fgj", headers=admin).get_json()["total"] == 5
    assert client.get(f"{V1}/cases?department=county.zwfw", headers=admin).get_json()["total"] == 0
    assert client.get(f"{V1}/cases?per_page=201", headers=admin).status_code == 422
    assert client.get(f"{V1}/cases?page=0", headers=admin).status_code == 422
    assert client.get(f"{V1}/cases?status=bogus", headers=admin).status_code == 422
    tasks = client.get(f"{V1}/tasks?per_page=200", headers=admin).get_json()
    assert tasks["total"] == 15 and len(tasks["items"]) == 15
    assert client.get(f"{V1}/tasks?process_key=nope", headers=admin).get_json()["total"] == 0
    assert client.get(f"{V1}/tasks?state=completed", headers=admin).get_json()["total"] == 0
    assert client.get(f"{V1}/tasks?state=all", headers=admin).get_json()["total"] == 15


def test_suspend_resume_cancel(client, api_users, deploy, start_case):
    deploy("parallel_approval.bpmn")
    case = start_case()
    alice = api_users.header("alice")
    suspended = client.post(f"{V1}/cases/{case['id']}/suspend", json={"reason": "enterprise asked"}, headers=alice)
    assert suspended.status_code == 200 and suspended.get_json()["status"] == "suspended"
    task = case["open_tasks"][0]
    assert complete(client, api_users, task, STAFF_OF[task["department"]]).status_code == 409
    assert client.post(f"{V1}/cases/{case['id']}/suspend", json={"reason": "x"}, headers=alice).status_code == 409
    resumed = client.post(f"{V1}/cases/{case['id']}/resume", json={"reason": "materials in"}, headers=alice)
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "running"
    cancelled = client.post(f"{V1}/cases/{case['id']}/cancel", headers=alice)  # the body is optional
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert client.post(f"{V1}/cases/{case['id']}/cancel", json={}, headers=alice).status_code == 409
    history = client.get(f"{V1}/cases/{case['id']}/history", headers=alice).get_json()["items"]
    assert {"type": "suspended", "reason": "enterprise asked"} in [
        {"type": e["type"], "reason": (e["data"] or {}).get("reason")} for e in history]
    assert ready_tasks(client, api_users, case["id"]) == []
    # the business key is free again
    assert start_case()["created"] is True


def test_messages_to_a_case_and_by_business_key(client, api_users, deploy, start_case):
    deploy("message_wait.bpmn")
    case = start_case("message_wait")
    alice = api_users.header("alice")
    wrong = client.post(f"{V1}/cases/{case['id']}/messages", json={"name": "other"}, headers=alice)
    assert wrong.status_code == 409
    delivered = client.post(f"{V1}/cases/{case['id']}/messages",
                            json={"name": "materials_supplied", "payload": {"files": 3}}, headers=alice)
    assert delivered.status_code == 200, delivered.get_json()
    [review] = ready_tasks(client, api_users, case["id"])
    assert review["element_id"] == "Review"

    other = start_case("message_wait", business_key="2026-510117-34-01-000009")
    correlated = client.post(f"{V1}/messages", json={"name": "materials_supplied",
                                                    "business_key": "2026-510117-34-01-000009"}, headers=alice)
    assert correlated.status_code == 200 and correlated.get_json()["id"] == other["id"]
    assert client.post(f"{V1}/messages", json={"name": "materials_supplied",
                                               "business_key": "2026-510117-34-01-000009"},
                       headers=alice).status_code == 409
    assert client.post(f"{V1}/messages", json={"name": "materials_supplied", "business_key": "nope"},
                       headers=alice).status_code == 404
    assert client.post(f"{V1}/messages", json={"name": "materials_supplied",
                                               "business_key": "2026-510117-34-01-000009"},
                       headers=api_users.header("bob")).status_code == 403


def test_departments(client, api_users):
    everything = client.get(f"{V1}/departments", headers=api_users.header("fgj")).get_json()
    assert everything["total"] == len(everything["items"]) > 5
    county = client.get(f"{V1}/departments?level=county", headers=api_users.header("fgj")).get_json()
    assert county["items"] and all(d["level"] == "county" for d in county["items"])
    assert any(d["code"] == "county.fgj" and d["name_zh"] for d in county["items"])
    assert client.get(f"{V1}/departments?level=galaxy", headers=api_users.header("fgj")).status_code == 422


def test_public_progress_shows_no_private_data(client, api_users, deploy, start_case):
    deploy("parallel_approval.bpmn")
    case = start_case(variables={"enterprise_contact": "张三", "credit_code": "91510100MA61234567"})
    task = next(t for t in case["open_tasks"] if t["department"] == "county.fgj")
    assert complete(client, api_users, task, "fgj", {"decision": "approve", "opinion": "内部意见：同意"}).status_code == 200
    response = client.get(f"{V1}/public/projects/{PROJECT_CODE}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "郫都区新材料产业园" and body["status"] == "running" and body["stage"] == "stage1"
    assert len(body["items"]) == 3
    fgj = next(i for i in body["items"] if i["department"]["code"] == "county.fgj")
    assert fgj["state"] == "completed" and fgj["completed_at"] and fgj["department"]["name_zh"]
    assert fgj["stage"] == "stage1"
    assert {i["state"] for i in body["items"]} == {"completed", "in_progress"}
    text = response.get_data(as_text=True)
    for secret in ("张三", "91510100MA61234567", "13800138000", "内部意见", "alice", "\"fgj\"", "completed_by", "variables"):
        assert secret not in text
    assert client.get(f"{V1}/public/projects/2026-510117-34-01-999999").status_code == 404

"""Incidents and repairs over HTTP and on the command line, on real BPMN: list, retry (also one
that fails again), variables, move; the public page says 处理异常."""
from __future__ import annotations

import json

import pytest

from api.app import create_app
from tests.api.conftest import PROJECT_CODE

V1 = "/api/v1"


@pytest.fixture
def failed(client, api_users, deploy, start_case):
    """A failing_script case whose Divide step failed (divisor 0)."""
    deploy("failing_script.bpmn")
    case = start_case("failing_script")
    [fill] = case["open_tasks"]
    response = client.post(f"{V1}/tasks/{fill['id']}/complete", json={"data": {"divisor": 0}},
                           headers=api_users.header("alice"))
    assert response.status_code == 200, response.get_json()
    return case["id"]


def test_list_retry_patch_retry_over_http(client, api_users, failed):
    admin = api_users.header("root")
    listed = client.get(f"{V1}/incidents", headers=admin).get_json()
    assert listed["total"] == 1 and listed["page"] == 1
    [incident] = listed["items"]
    assert incident["case_id"] == failed and incident["element_id"] == "Divide"
    assert "division by zero" in incident["message"] and incident["retries"] == 0
    assert incident["state"] == "open" and incident["created_at"]
    for query in ("process_key=failing_script", "element_id=Divide", "since=2026-03-02T09:00:00%2B08:00",
                  f"case_id={failed}"):
        assert client.get(f"{V1}/incidents?{query}", headers=admin).get_json()["total"] == 1, query
    for query in ("process_key=other", "element_id=Fill", "since=2026-03-03", "department=county.fgj"):
        assert client.get(f"{V1}/incidents?{query}", headers=admin).get_json()["total"] == 0, query
    assert client.get(f"{V1}/incidents?state=bogus", headers=admin).status_code == 422
    assert client.get(f"{V1}/incidents?since=yesterday", headers=admin).status_code == 422

    again = client.post(f"{V1}/cases/{failed}/retry", headers=api_users.header("alice"))
    assert again.status_code == 200
    body = again.get_json()
    assert [i["retries"] for i in body["incidents"]] == [1] and body["status"] == "running"
    assert body["error"].startswith("Divide:")

    patched = client.patch(f"{V1}/cases/{failed}/variables", data=json.dumps({"divisor": 4, "note": "checked"}),
                           headers={**admin, "Content-Type": "application/merge-patch+json"})
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["before"] == {"divisor": 0}
    assert patched.get_json()["after"] == {"divisor": 4, "note": "checked"}
    assert patched.get_json()["variables"]["divisor"] == 4

    repaired = client.post(f"{V1}/cases/{failed}/retry", json={"reason": "divisor corrected"}, headers=admin)
    assert repaired.status_code == 200
    assert repaired.get_json()["incidents"] == [] and repaired.get_json()["status"] == "completed"
    assert client.get(f"{V1}/incidents", headers=admin).get_json()["total"] == 0
    [resolved] = client.get(f"{V1}/incidents?state=resolved", headers=admin).get_json()["items"]
    assert resolved["resolution"] == "retried" and resolved["resolved_by"] == "root" and resolved["retries"] == 2
    history = client.get(f"{V1}/cases/{failed}/history", headers=admin).get_json()["items"]
    changed = next(e for e in history if e["type"] == "variables_changed")
    assert changed["actor"] == "root" and changed["data"]["before"] == {"divisor": 0}
    assert [e["data"]["reason"] for e in history if e["type"] == "retried"] == ["", "divisor corrected"]


def test_bad_repair_requests_are_refused_and_change_nothing(client, api_users, failed):
    admin = api_users.header("root")
    before = client.get(f"{V1}/cases/{failed}", headers=admin).get_json()
    for body in ("[1, 2]", "{}", '{"9lives": 1}', '{"ghost": null}'):
        response = client.patch(f"{V1}/cases/{failed}/variables", data=body,
                                headers={**admin, "Content-Type": "application/json"})
        assert response.status_code == 422, (body, response.get_json())
    assert client.patch(f"{V1}/cases/{failed}/variables", data="x=1",
                        headers={**admin, "Content-Type": "text/plain"}).status_code == 415
    unknown = client.post(f"{V1}/cases/{failed}/move", json={"from": "Nope", "to": "EndEvent"}, headers=admin)
    assert unknown.status_code == 422 and "Nope" in unknown.get_json()["errors"]["from"][0]
    no_token = client.post(f"{V1}/cases/{failed}/move", json={"from": "Fill", "to": "EndEvent"}, headers=admin)
    assert no_token.status_code == 409 and "tokens are at: Divide" in no_token.get_json()["detail"]
    assert client.post(f"{V1}/cases/{failed}/move", json={"to": "EndEvent"}, headers=admin).status_code == 422
    assert client.post(f"{V1}/cases/nope/retry", headers=admin).status_code == 404
    assert client.patch(f"{V1}/cases/{failed}/variables?task_id=nope", json={"a": 1},
                        headers=admin).status_code == 404
    after = client.get(f"{V1}/cases/{failed}", headers=admin).get_json()
    assert after["variables"] == before["variables"] and after["updated_at"] == before["updated_at"]


def test_move_over_http_skips_the_stuck_step(client, api_users, failed):
    admin = api_users.header("root")
    moved = client.post(f"{V1}/cases/{failed}/move", json={"from": "Divide", "to": "EndEvent", "reason": "skip"},
                        headers=admin)
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["status"] == "completed" and moved.get_json()["incidents"] == []
    [incident] = client.get(f"{V1}/incidents?state=all", headers=admin).get_json()["items"]
    assert incident["resolution"] == "moved"
    history = client.get(f"{V1}/cases/{failed}/history", headers=admin).get_json()["items"]
    [event] = [e for e in history if e["type"] == "moved"]
    assert event["actor"] == "root" and (event["data"]["from"], event["data"]["to"]) == ("Divide", "EndEvent")


def test_public_page_and_json_say_processing_exception(client, api_users, deploy, start_case):
    deploy("incidents.bpmn")
    case = start_case("routed_review", variables={"department": "county.nowhere"})
    public = client.get(f"{V1}/public/projects/{PROJECT_CODE}").get_json()
    assert public["status"] == "error" and public["status_name"] == "处理异常"
    page = client.get(f"/progress/{PROJECT_CODE}").get_data(as_text=True)
    assert "处理异常" in page and "办理中" not in page and "nowhere" not in page
    admin = api_users.header("root")
    client.patch(f"{V1}/cases/{case['id']}/variables", json={"department": "county.fgj"}, headers=admin)
    assert client.post(f"{V1}/cases/{case['id']}/retry", headers=admin).get_json()["incidents"] == []
    public = client.get(f"{V1}/public/projects/{PROJECT_CODE}").get_json()
    assert public["status"] == "running" and public["status_name"] == "办理中"
    assert "办理中" in client.get(f"/progress/{PROJECT_CODE}").get_data(as_text=True)


def test_incidents_are_scoped_to_who_may_see_them(client, api_users, failed, deploy, start_case):
    deploy("incidents.bpmn")
    start_case("routed_review", business_key="2026-510117-34-01-000002", agent="bob",
               variables={"department": "county.fgj", "amount": 1})
    start_case("check_then_review", business_key="2026-510117-34-01-000003", agent="bob",
               variables={"amount": 1, "count": 0})
    def total(user, query=""):  # noqa: E306
        return client.get(f"{V1}/incidents{query}", headers=api_users.header(user)).get_json()["total"]
    assert total("root") == 2 and total("gov") == 2
    assert total("alice") == 1 and total("bob") == 1
    assert total("fgj") == 0
    assert client.get(f"{V1}/incidents?department=county.zrzyj", headers=api_users.header("fgj")).status_code == 403
    assert client.get(f"{V1}/incidents", headers=api_users.header("dora")).status_code == 403
    assert client.get(f"{V1}/incidents").status_code == 401


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def cli(runtime):
    runner = create_app(runtime=runtime).test_cli_runner()
    return lambda *args, **kw: runner.invoke(args=list(args), **kw)


def test_cli_lists_retries_patches_and_moves(cli, runtime, agent, tmp_path):
    from engine.services import cases
    from tests.conftest import deploy_file
    deploy_file(runtime, "failing_script.bpmn")
    deploy_file(runtime, "incidents.bpmn")
    with runtime.unit_of_work() as uow:
        case = cases.start_case(uow, agent, "failing_script", PROJECT_CODE).case
        uow.commit()
    with runtime.unit_of_work() as uow:
        [fill] = [t for t in cases.case_tasks(uow, case.id)]
        cases.complete_task(uow, agent, fill.id, {"divisor": 0})
        uow.commit()
    listed = cli("incidents", "list")
    assert listed.exit_code == 0 and case.id in listed.output and "Divide" in listed.output
    assert "retried 0x" in listed.output and "division by zero" in listed.output
    as_json = json.loads(cli("incidents", "list", "--json", "--process", "failing_script").output)
    assert as_json["total"] == 1 and as_json["items"][0]["element_id"] == "Divide"
    assert "no open incidents" in cli("incidents", "list", "--element", "Fill").output
    assert cli("incidents", "list", "--since", "not-a-date").exit_code == 1

    failing = cli("cases", "retry", case.id)
    assert failing.exit_code == 1 and "still open" in failing.output
    assert "retried 1x" in cli("incidents", "list").output

    bad = cli("cases", "variables", case.id, "--set", 'divisor={"unclosed"')
    assert bad.exit_code != 0 and "not valid JSON" in bad.output
    assert cli("cases", "variables", case.id).exit_code != 0  # nothing to change
    patch_file = tmp_path / "patch.json"
    patch_file.write_text('{"divisor": 5, "remark": "fixed by the centre"}', encoding="utf-8")
    patched = cli("cases", "variables", case.id, "--file", str(patch_file), "--set", "who=王五")
    assert patched.exit_code == 0, patched.output
    assert json.loads(patched.output)["after"] == {"divisor": 5, "remark": "fixed by the centre", "who": "王五"}
    stdin = cli("cases", "variables", case.id, "--file", "-", "--delete", "who", input='{"remark": null}')
    assert stdin.exit_code == 0 and json.loads(stdin.output)["before"] == {"remark": "fixed by the centre",
                                                                          "who": "王五"}
    repaired = cli("cases", "retry", case.id, "--reason", "divisor fixed")
    assert repaired.exit_code == 0, repaired.output
    assert json.loads(repaired.output)["status"] == "completed"
    assert "no open incidents" in cli("incidents", "list").output
    assert "retried" in cli("incidents", "list", "--state", "resolved").output

    with runtime.unit_of_work() as uow:
        stuck = cases.start_case(uow, agent, "check_then_review", "2026-510117-34-01-000009",
                                 variables={"amount": 1, "count": 0}).case
        uow.commit()
    assert cli("cases", "move", stuck.id, "--from", "Nope", "--to", "ReviewC").exit_code == 1
    moved = cli("cases", "move", stuck.id, "--from", "CheckC", "--to", "ReviewC", "--reason", "checked by hand")
    assert moved.exit_code == 0, moved.output
    assert [t["element_id"] for t in json.loads(moved.output)["open_tasks"]] == ["ReviewC"]


def test_cli_repairs_follow_the_permission_rules(cli, runtime, agent):
    from engine.services import cases
    from engine.services import users
    from tests.conftest import deploy_file
    deploy_file(runtime, "incidents.bpmn")
    with runtime.unit_of_work() as uow:
        users.create_user(uow, "alice", "agent", None)
        users.create_user(uow, "wang", "staff", "county.fgj")
        case = cases.start_case(uow, agent, "check_then_review", PROJECT_CODE,
                                variables={"amount": 1, "count": 0}).case
        uow.commit()
    refused = cli("cases", "variables", case.id, "--set", "count=1", "--as", "alice")
    assert refused.exit_code == 1 and "only an admin" in refused.output
    assert cli("cases", "move", case.id, "--from", "CheckC", "--to", "ReviewC", "--as", "wang").exit_code == 1
    assert cli("cases", "retry", case.id, "--as", "wang").exit_code == 1
    assert cli("cases", "variables", case.id, "--set", "count=1").exit_code == 0  # the system: an admin
    assert cli("cases", "retry", case.id, "--as", "alice").exit_code == 0  # the case's own agent

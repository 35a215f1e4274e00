"""DMN over HTTP and the command line: a BPMN and its DMN file deployed together as multipart,
a case deciding with it, and the errors a designer gets (422 naming file and line, 413)."""
from __future__ import annotations

import io

from api.app import create_app
from tests.api.conftest import PROJECT_CODE
from tests.dmn_text import table, rule_task_process
from tests.scenarios.test_approval_items_decision import FILES, PROCESSES

ANSWERS = {"project_name": "德阳玉龙钢管厂（一期）", "project_type": "filing", "land_use": "transferred",
           "investment": 8000, "hazardous": False}


def _multipart(client, api_users, files: list[tuple[bytes, str]], **query):
    data = {"file": [(io.BytesIO(content), name) for content, name in files]}
    return client.post("/api/v1/process-definitions", data=data, content_type="multipart/form-data",
                       headers=api_users.header("dora"), query_string=query)


def _shipped() -> list[tuple[bytes, str]]:
    return [((PROCESSES / name).read_bytes(), name) for name in FILES]


def test_a_bpmn_and_its_dmn_deploy_as_multipart_and_a_case_decides(client, api_users):
    response = _multipart(client, api_users, _shipped())
    assert response.status_code == 201, response.get_json()
    assert [(d["key"], d["version"], d["file_name"]) for d in response.get_json()["definitions"]] == [
        ("approval_checklist", 1, "approval_checklist.bpmn")]
    alice = api_users.header("alice")
    started = client.post("/api/v1/cases", headers=alice, json={
        "process_key": "approval_checklist", "business_key": PROJECT_CODE,
        "project": {"project_name": ANSWERS["project_name"]}})
    assert started.status_code == 201, started.get_json()
    [profile] = started.get_json()["open_tasks"]
    done = client.post(f"/api/v1/tasks/{profile['id']}/complete", headers=alice,
                       json={"data": {k: v for k, v in ANSWERS.items() if k != "project_name"}})
    assert done.status_code == 200, done.get_json()
    assert [t["element_id"] for t in done.get_json()["open_tasks"]] == ["ConfirmChecklist"]
    case = client.get(f"/api/v1/cases/{started.get_json()['id']}", headers=alice).get_json()
    items = case["variables"]["approval_items"]
    assert [i["code"] for i in items][:3] == ["project_filing", "land_planning_permit", "energy_review"]
    assert all(set(i) == {"code", "name", "department", "stage", "time_limit"} for i in items)

    again = _multipart(client, api_users, _shipped())
    assert again.status_code == 200 and again.get_json()["created"] is False
    changed = [(d.replace(b"&gt;= 5000<", b"&gt;= 10000<"), n) if n.endswith(".dmn") else (d, n) for d, n in _shipped()]
    second = _multipart(client, api_users, changed)
    assert second.status_code == 201 and second.get_json()["definitions"][0]["version"] == 2


def test_dmn_problems_are_a_422_naming_file_line_and_rule(client, api_users):
    dmn = table([(["< 10"], ['"a"']), (['"x" + "y"'], ['"b"'])])
    response = _multipart(client, api_users, [(rule_task_process(), "p.bpmn"), (dmn, "d.dmn")])
    assert response.status_code == 422
    [problem] = response.get_json()["errors"]["file"]
    assert problem.startswith("d.dmn:13: rule Rule2: row 2, input 'amount':") and "construct: +" in problem
    missing = _multipart(client, api_users, [(rule_task_process("fees"), "p.bpmn")])
    assert missing.status_code == 422
    assert missing.get_json()["errors"]["file"] == [
        "p.bpmn:8: businessRuleTask Decide: decisionRef 'fees' names no decision; deploy the DMN file with it "
        "(decisions known: none)"]
    assert client.get("/api/v1/process-definitions", headers=api_users.header("dora")).get_json()["total"] == 0


def test_an_oversized_dmn_file_is_413_and_a_dmn_alone_422(client, api_users):
    big = table([(["-"], ['"a"'])]).replace(b"</definitions>", b"<!--" + b"x" * (5 * 1024 * 1024) + b"-->"
                                             b"</definitions>")
    response = _multipart(client, api_users, [(rule_task_process(), "p.bpmn"), (big, "big.dmn")])
    assert response.status_code == 413 and "big.dmn" in response.get_json()["detail"]
    alone = _multipart(client, api_users, [(table([(["-"], ['"a"'])]), "d.dmn")])
    assert alone.status_code == 422 and "at least one BPMN file" in alone.get_json()["detail"]


def test_deploy_dir_takes_the_dmn_files_of_the_directory(runtime, tmp_path):
    for data, name in _shipped():
        (tmp_path / name).write_bytes(data)
    runner = create_app(runtime=runtime).test_cli_runner()
    result = runner.invoke(args=["deploy", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "approval_checklist v1 deployed" in result.output
    (tmp_path / "approval_items.dmn").write_bytes(table([(["<"], ['"a"'])], decision_id="approval_items"))
    refused = runner.invoke(args=["deploy", str(tmp_path)])
    assert refused.exit_code == 1 and "approval_items.dmn:" in refused.output

"""/api/v1/external-tasks and the Camunda 7 compatible /engine-rest, through the Flask app."""
from __future__ import annotations

import base64

import pytest

from tests.conftest import BPMN

V1 = "/api/v1"
REST = "/engine-rest"


@pytest.fixture
def workers(api_users):
    api_users.create("credit-bot", "worker")
    api_users.create("mail-bot", "worker")
    return api_users


@pytest.fixture
def credit_case(client, workers, start_case):
    response = client.post(f"{V1}/process-definitions", data=(BPMN / "external_tasks.bpmn").read_bytes(),
                           headers={**workers.header("dora"), "Content-Type": "application/xml"})
    assert response.status_code == 201, response.get_json()
    return start_case("credit_check", business_key="P-1", variables={"amount": 5})


def _fetch(client, headers, worker="w1", topic="credit-check", **extra):
    return client.post(f"{V1}/external-tasks/fetch-and-lock", headers=headers,
                       json={"workerId": worker, "maxTasks": 5,
                             "topics": [{"topicName": topic, "lockDuration": 60000, **extra}]})


def test_fetch_complete_and_the_case_runs_on(client, workers, credit_case):
    bot = workers.header("credit-bot")
    response = _fetch(client, bot, variables=["amount"])
    assert response.status_code == 200
    [task] = response.get_json()
    assert (task["topicName"], task["workerId"], task["activityId"], task["businessKey"], task["priority"],
            task["variables"], task["processInstanceId"]) == (
        "credit-check", "w1", "Check_credit", "P-1", 5, {"amount": 5}, credit_case["id"])
    assert _fetch(client, bot, worker="w2").get_json() == []
    listed = client.get(f"{V1}/external-tasks", headers=bot, query_string={"locked": "true"}).get_json()
    assert [t["id"] for t in listed] == [task["id"]]
    wrong = client.post(f"{V1}/external-tasks/{task['id']}/complete", headers=bot, json={"workerId": "w2"})
    assert wrong.status_code == 409 and "locked by worker 'w1'" in wrong.get_json()["detail"]
    done = client.post(f"{V1}/external-tasks/{task['id']}/complete", headers=bot,
                       json={"workerId": "w1", "variables": {"score": 7}})
    assert done.status_code == 200 and done.get_json()["status"] == "running"
    gone = client.get(f"{V1}/external-tasks/{task['id']}", headers=bot)
    assert gone.status_code == 404
    [notify] = _fetch(client, workers.header("mail-bot"), worker="m1", topic="notify").get_json()
    assert notify["variables"]["score"] == 7


def test_failure_without_retries_is_an_incident_operators_see(client, workers, credit_case):
    bot = workers.header("credit-bot")
    [task] = _fetch(client, bot).get_json()
    response = client.post(f"{V1}/external-tasks/{task['id']}/failure", headers=bot,
                           json={"workerId": "w1", "errorMessage": "registry offline", "retries": 0})
    assert response.status_code == 200 and response.get_json()["retries"] == 0
    [incident] = client.get(f"{V1}/incidents", headers=workers.header("root")).get_json()["items"]
    assert incident["element_id"] == "Check_credit" and "registry offline" in incident["message"]
    retried = client.post(f"{V1}/cases/{credit_case['id']}/retry", headers=workers.header("alice"),
                          json={"reason": "registry back"})
    assert retried.status_code == 200 and retried.get_json()["incidents"] == []
    assert [t["id"] for t in _fetch(client, bot).get_json()] == [task["id"]]


def test_bpmn_error_extend_lock_unlock_and_bad_input(client, workers, credit_case):
    bot = workers.header("credit-bot")
    [task] = _fetch(client, bot).get_json()
    extended = client.post(f"{V1}/external-tasks/{task['id']}/extend-lock", headers=bot,
                           json={"workerId": "w1", "newDuration": 120000})
    assert extended.status_code == 200 and extended.get_json()["lockExpirationTime"] > task["lockExpirationTime"]
    assert client.post(f"{V1}/external-tasks/{task['id']}/unlock", headers=bot).get_json()["workerId"] is None
    [task] = _fetch(client, bot, worker="w2").get_json()
    bad = client.post(f"{V1}/external-tasks/fetch-and-lock", headers=bot,
                      json={"workerId": "w1", "topics": [{"topicName": "x", "lockDuration": -1}]})
    assert bad.status_code == 422 and "topics.0.lockDuration" in bad.get_json()["errors"]
    assert client.post(f"{V1}/external-tasks/fetch-and-lock", headers=workers.header("alice"),
                       json={"workerId": "w1", "topics": [{"topicName": "x", "lockDuration": 1}]}).status_code == 403
    error = client.post(f"{V1}/external-tasks/{task['id']}/bpmn-error", headers=bot,
                        json={"workerId": "w2", "errorCode": "REFUSED", "variables": {"why": "blacklist"}})
    assert error.status_code == 200
    case = client.get(f"{V1}/cases/{credit_case['id']}", headers=workers.header("alice")).get_json()
    assert [t["element_id"] for t in case["open_tasks"]] == ["Explain_refusal"]
    assert case["variables"]["why"] == "blacklist"


# --------------------------------------------------------------------------- /engine-rest


def _basic(name: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()}


def test_engine_rest_speaks_camunda_shapes_with_basic_and_bearer(client, workers, credit_case):
    basic = _basic("credit-bot", workers.tokens["credit-bot"])
    assert client.get(f"{REST}/version", headers=basic).get_json() == {"version": "7.21.0"}
    refused = client.get(f"{REST}/version", headers=_basic("mail-bot", workers.tokens["credit-bot"]))
    assert refused.status_code == 401 and refused.get_json()["type"] == "AuthenticationException"
    fetched = client.post(f"{REST}/external-task/fetchAndLock", headers=basic, json={
        "workerId": "py", "maxTasks": 1, "usePriority": True, "asyncResponseTimeout": 30000,
        "topics": [{"topicName": "credit-check", "lockDuration": 10000, "processVariables": {},
                    "deserializeValues": True}]})
    [task] = fetched.get_json()
    assert task["variables"]["amount"] == {"value": 5, "type": "Integer", "valueInfo": {}}
    assert task["variables"]["project"]["type"] == "Json"
    assert task["lockExpirationTime"].endswith("+0000") and task["processDefinitionKey"] == "credit_check"
    other = client.post(f"{REST}/external-task/{task['id']}/complete", headers=basic, json={"workerId": "other"})
    assert other.status_code == 400 and other.get_json()["type"] == "BadUserRequestException"
    assert "locked by worker 'py'" in other.get_json()["message"]
    typed = client.post(f"{REST}/external-task/{task['id']}/complete", headers=workers.header("credit-bot"), json={
        "workerId": "py", "variables": {"score": {"value": "9", "type": "Integer"}}})
    assert typed.status_code == 400 and "variables.score" in typed.get_json()["message"]
    done = client.post(f"{REST}/external-task/{task['id']}/complete", headers=workers.header("credit-bot"), json={
        "workerId": "py", "variables": {"score": {"value": 9, "type": "Integer"},
                                        "report": {"value": '{"ok": true}', "type": "Json"}}})
    assert done.status_code == 204
    instance = client.get(f"{REST}/process-instance/{credit_case['id']}", headers=workers.header("alice")).get_json()
    assert (instance["id"], instance["definitionKey"], instance["ended"], instance["businessKey"]) == (
        credit_case["id"], "credit_check", False, "P-1")
    missing = client.get(f"{REST}/process-instance/nope", headers=workers.header("alice"))
    assert missing.status_code == 404 and set(missing.get_json()) == {"type", "message"}


def test_engine_rest_deploy_start_and_user_tasks_as_modeler_and_scripts_do(client, workers):
    data = (BPMN / "external_tasks.bpmn").read_bytes()
    deployed = client.post(f"{REST}/deployment/create", headers=_basic("dora", workers.tokens["dora"]),
                           content_type="multipart/form-data", data={
                               "deployment-name": "credit", "deploy-changed-only": "true",
                               "deployment-source": "Camunda Modeler",
                               "external_tasks.bpmn": (__import__("io").BytesIO(data), "external_tasks.bpmn")})
    assert deployed.status_code == 200, deployed.get_json()
    body = deployed.get_json()
    [definition] = body["deployedProcessDefinitions"].values()
    assert (body["name"], body["source"], definition["key"], definition["version"]) == (
        "credit", "Camunda Modeler", "credit_check", 1)
    broken = client.post(f"{REST}/deployment/create", headers=workers.header("dora"),
                         content_type="multipart/form-data",
                         data={"bad.bpmn": (__import__("io").BytesIO(data.replace(
                             b'camunda:type="external"\n                      camunda:topic="credit-check"',
                             b'camunda:class="com.example.Credit"')), "bad.bpmn")})
    assert broken.status_code == 400 and "bad.bpmn:10: serviceTask Check_credit: camunda:class" in \
        broken.get_json()["message"]
    started = client.post(f"{REST}/process-definition/key/credit_check/start", headers=workers.header("alice"),
                          json={"businessKey": "P-9", "variables": {"amount": {"value": 12.5, "type": "Double"}}})
    assert started.status_code == 200
    case_id = started.get_json()["id"]
    [task] = client.post(f"{REST}/external-task/fetchAndLock", headers=workers.header("credit-bot"), json={
        "workerId": "py", "maxTasks": 1, "topics": [{"topicName": "credit-check", "lockDuration": 1000}]}).get_json()
    assert task["variables"]["amount"] == {"value": 12.5, "type": "Double", "valueInfo": {}}
    assert client.post(f"{REST}/external-task/{task['id']}/bpmnError", headers=workers.header("credit-bot"),
                       json={"workerId": "py", "errorCode": "REFUSED"}).status_code == 204
    [user_task] = client.get(f"{REST}/task", headers=workers.header("alice"),
                             query_string={"processInstanceId": case_id}).get_json()
    assert (user_task["taskDefinitionKey"], user_task["processInstanceId"]) == ("Explain_refusal", case_id)
    assert client.post(f"{REST}/task/{user_task['id']}/complete", headers=workers.header("alice"),
                       json={"variables": {}}).status_code == 204
    assert client.get(f"{REST}/process-instance/{case_id}", headers=workers.header("alice")).get_json()["ended"]
    by_id = client.post(f"{REST}/process-definition/{definition['id']}/start", headers=workers.header("alice"),
                        json={"businessKey": "P-8"})
    assert by_id.status_code == 200 and by_id.get_json()["definitionId"] == definition["id"]
    assert client.post(f"{REST}/process-definition/999999/start", headers=workers.header("alice"),
                       json={}).status_code == 404


def test_a_worker_uses_only_the_external_task_endpoints(client, workers, credit_case):
    bot = workers.header("credit-bot")
    for method, path in [("get", f"{V1}/cases"), ("get", f"{V1}/cases/{credit_case['id']}"), ("get", f"{V1}/tasks"),
                         ("get", f"{V1}/incidents"), ("post", f"{V1}/cases"),
                         ("post", f"{V1}/process-definitions"), ("get", f"{REST}/task"),
                         ("get", f"{REST}/process-instance/{credit_case['id']}"),
                         ("post", f"{REST}/process-definition/key/credit_check/start")]:
        kwargs = {"json": {"process_key": "credit_check", "business_key": "P-2"}} if method == "post" else {}
        if path.endswith("process-definitions"):
            kwargs = {"data": b"<x/>", "content_type": "application/xml"}
        assert getattr(client, method)(path, headers=bot, **kwargs).status_code == 403, path
    assert client.get(f"{V1}/process-definitions", headers=bot).status_code == 200
    for name in ("dora", "alice", "fgj", "fgj-leader", "gov"):
        assert _fetch(client, workers.header(name)).status_code == 403, name
        assert client.get(f"{V1}/external-tasks", headers=workers.header(name)).status_code == 403, name
    assert _fetch(client, workers.header("root")).status_code == 200
    assert client.post(f"{V1}/external-tasks/fetch-and-lock", json={}).status_code == 401
    assert client.post(f"{REST}/external-task/fetchAndLock", json={}).get_json()["type"] == "AuthenticationException"


def test_engine_rest_task_filters_before_it_pages(client, api_users, deploy, start_case):
    """Camunda clients page with firstResult/maxResults after filtering: a filter never empties a page
    that has matches further on, and firstResult need not fall on a page boundary."""
    deploy("parallel_approval.bpmn")
    started = [start_case(business_key=f"2026-510117-34-01-00000{n}") for n in range(1, 4)]
    alice = api_users.header("alice")
    every = client.get(f"{REST}/task", headers=alice, query_string={"maxResults": 200}).get_json()
    keys = sorted({t["taskDefinitionKey"] for t in every})
    element = keys[-1]
    matching = [t["id"] for t in every if t["taskDefinitionKey"] == element]
    assert len(matching) >= 3 and len(every) > len(matching)
    for first in range(len(matching)):
        one = client.get(f"{REST}/task", headers=alice, query_string={
            "taskDefinitionKey": element, "firstResult": first, "maxResults": 1}).get_json()
        assert [t["id"] for t in one] == [matching[first]]
    last_case = client.get(f"{REST}/task", headers=alice, query_string={
        "processInstanceBusinessKey": "2026-510117-34-01-000003", "maxResults": 2}).get_json()
    assert len(last_case) == 2 and {t["processInstanceId"] for t in last_case} == {started[2]["id"]}

"""Deploying over HTTP and the command line: several files as one deployment, every problem at
once, warnings, and the inputs that used to give a 500."""
from __future__ import annotations

import io

import pytest

from api.app import create_app
from tests.api.conftest import PROJECT_CODE
from tests.bpmn_text import around, timer_event
from tests.conftest import BPMN

UPLOAD = BPMN / "upload"
FILES = ["main.bpmn", "item.bpmn", "opinion.bpmn"]
KEYS = ["project_item", "project_main", "project_opinion"]


def _multipart(client, api_users, files: list[tuple[bytes, str]], **query):
    data = {"file": [(io.BytesIO(content), name) for content, name in files]}
    return client.post("/api/v1/process-definitions", data=data, content_type="multipart/form-data",
                       headers=api_users.header("dora"), query_string=query)


def _raw(client, api_users, content: bytes, name: str = "upload.bpmn", **query):
    return client.post("/api/v1/process-definitions", data=content,
                       headers={**api_users.header("dora"), "Content-Type": "application/xml"},
                       query_string={"filename": name, **query})


def _files(*names: str) -> list[tuple[bytes, str]]:
    return [((UPLOAD / name).read_bytes(), name) for name in names]


# -- several files, one deployment ---------------------------------------------------------------

@pytest.mark.parametrize("order", [FILES, FILES[::-1]], ids=["callers-first", "callees-first"])
def test_several_files_deploy_as_one_deployment_in_any_order(client, api_users, order):
    response = _multipart(client, api_users, _files(*order))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["created"] is True and body["dry_run"] is False
    assert sorted(d["key"] for d in body["definitions"]) == KEYS
    assert {d["key"]: (d["file_name"], d["version"], d["created"]) for d in body["definitions"]} == {
        "project_main": ("main.bpmn", 1, True), "project_item": ("item.bpmn", 1, True),
        "project_opinion": ("opinion.bpmn", 1, True)}
    assert body["warnings"] == [
        "opinion.bpmn:9: userTask GiveOpinion: formKey 'embedded:app:forms/opinion.html' names no deployed form; "
        "it is passed to the client as it is and the task's data is accepted unvalidated"]
    again = _multipart(client, api_users, _files(*order))
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert not any(d["created"] for d in again.get_json()["definitions"])


def test_a_multipart_deployment_is_all_or_nothing_and_lists_every_problem(client, api_users):
    broken = around(timer_event("timeCycle", "R/PT0S"), pid="broken").replace(b'targetRef="E"', b'targetRef="X"')
    response = _multipart(client, api_users, _files(*FILES) + [(broken, "broken.bpmn")])
    assert response.status_code == 422
    problems = response.get_json()["errors"]["file"]
    assert "broken.bpmn:9: intermediateCatchEvent T: timeCycle: the cycle 'R/PT0S' repeats more often than " \
           "once a minute" in problems
    assert any(p.startswith("broken.bpmn:") and "targetRef 'X' does not exist" in p for p in problems)
    for key in KEYS:
        assert client.get(f"/api/v1/process-definitions/{key}", headers=api_users.header("dora")).status_code == 404


def test_a_multipart_dry_run_stores_nothing(client, api_users):
    response = _multipart(client, api_users, _files(*FILES), dry_run="true")
    assert response.status_code == 200 and response.get_json()["dry_run"] is True
    assert len(response.get_json()["definitions"]) == 3
    assert client.get("/api/v1/process-definitions", headers=api_users.header("dora")).get_json()["total"] == 0


def test_multipart_part_names_and_bad_uploads(client, api_users):
    data = {"main": (io.BytesIO((UPLOAD / "main.bpmn").read_bytes()), "main.bpmn"),
            "rest": [(io.BytesIO((UPLOAD / n).read_bytes()), n) for n in FILES[1:]]}
    response = client.post("/api/v1/process-definitions", data=data, content_type="multipart/form-data",
                           headers=api_users.header("dora"))
    assert response.status_code == 201  # any part name: every file part is a file of the deployment
    twice = _multipart(client, api_users, _files("opinion.bpmn", "opinion.bpmn"))
    assert twice.status_code == 422 and "named 'opinion.bpmn'" in twice.get_json()["detail"]
    empty = _multipart(client, api_users, [(b"", "empty.bpmn")])
    assert empty.status_code == 422
    long_name = _multipart(client, api_users, [((UPLOAD / "opinion.bpmn").read_bytes(), "x" * 300 + ".bpmn")])
    assert long_name.status_code == 422


def test_a_task_with_an_opaque_form_key_completes_with_any_data(client, api_users, start_case):
    assert _multipart(client, api_users, _files(*FILES)).status_code == 201
    case = start_case("project_main")
    [task] = case["open_tasks"]
    assert task["form_key"] == "embedded:app:forms/opinion.html"
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"free": "form"}},
                       headers=api_users.header("zrzyj"))
    assert done.status_code == 200, done.get_json()


# -- the reproducers of issue 9 §4 ---------------------------------------------------------------

@pytest.mark.parametrize("kind, value", [
    ("timeDuration", "P99999999Y"), ("timeCycle", "R/PT0S"), ("timeCycle", "R999999999/PT0S"),
    ("timeDuration", "PT2X"), ("timeDate", "9999-12-31T23:59:59.9999+00:00"),
    ("timeDate", "0001-01-01T00:00:00+14:00"),
])
@pytest.mark.parametrize("dry_run", ["false", "true"])
def test_bad_timers_are_a_422_naming_file_line_and_element(client, api_users, kind, value, dry_run):
    response = _raw(client, api_users, around(timer_event(kind, value)), "timer.bpmn", dry_run=dry_run)
    assert response.status_code == 422
    [problem] = response.get_json()["errors"]["file"]
    assert problem.startswith(f"timer.bpmn:9: intermediateCatchEvent T: {kind}: ")


@pytest.mark.parametrize("dry_run", ["false", "true"])
def test_a_service_task_with_a_java_class_is_a_422_naming_the_element(client, api_users, dry_run):
    element = ('    <bpmn:serviceTask id="T" camunda:class="com.example.Notify"><bpmn:incoming>F1</bpmn:incoming>'
               '<bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>')
    response = _raw(client, api_users, around(element), "svc.bpmn", dry_run=dry_run)
    assert response.status_code == 422
    [problem] = response.get_json()["errors"]["file"]
    assert problem.startswith("svc.bpmn:8: serviceTask T: camunda:class") and 'camunda:type="external"' in problem


def test_a_condition_of_9000_terms_is_a_422(client, api_users):
    element = ('    <bpmn:userTask id="T"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>'
               '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>'
               f'<bpmn:completionCondition>{"+".join(["1"] * 9000)}</bpmn:completionCondition>'
               '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>')
    response = _raw(client, api_users, around(element), "deep.bpmn")
    assert response.status_code == 422
    assert response.get_json()["errors"]["file"][0].startswith("deep.bpmn:8: userTask T: completionCondition: ")


@pytest.mark.parametrize("value", ['"garbage"', "5", "[1]", '"P99999999Y"'])
def test_a_bad_timer_value_in_case_data_is_a_case_error_not_a_500(client, api_users, value):
    assert _raw(client, api_users, around(timer_event("timeDuration", "wait"))).status_code == 201
    response = client.post("/api/v1/cases", headers={**api_users.header("alice"), "Content-Type": "application/json"},
                           data=f'{{"process_key": "proc", "business_key": "{PROJECT_CODE}", "project": {{}}, '
                                f'"variables": {{"wait": {value}}}}}')
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["error"].startswith("T: timer 'wait': ")


@pytest.mark.parametrize("body", [
    '{"process_key": "\\ud800", "business_key": "k"}',
    '{"process_key": "p", "business_key": "k", "project": {"name": "a\\udfffb"}}',
    '{"process_key": "p", "business_key": "k", "variables": {"\\ud800": 1}}',
    '{"process_key": "p", "business_key": "k", "variables": {"list": [["\\udc00"]]}}',
])
def test_a_lone_surrogate_anywhere_in_a_json_body_is_a_422(client, api_users, body):
    response = client.post("/api/v1/cases", data=body, headers={**api_users.header("alice"),
                                                                 "Content-Type": "application/json"})
    assert response.status_code == 422 and "surrogate" in str(response.get_json())


def test_a_lone_surrogate_in_a_task_completion_or_message_is_a_422(client, api_users, deploy, start_case):
    deploy("parallel_approval.bpmn")
    case = start_case()
    task = case["open_tasks"][0]
    headers = {**api_users.header("root"), "Content-Type": "application/json"}
    completed = client.post(f"/api/v1/tasks/{task['id']}/complete", data='{"data": {"note": "\\ud800"}}',
                            headers=headers)
    assert completed.status_code == 422
    message = client.post("/api/v1/messages", data='{"business_key": "\\ud800", "name": "x"}', headers=headers)
    assert message.status_code == 422


def test_every_int_path_beyond_32_bits_is_a_404(app, client, api_users):
    rules = [r for r in app.url_map.iter_rules() if "<int:" in str(r) or any(
        type(c).__name__ == "Int32Converter" for c in r._converters.values())]
    assert {r.rule for r in rules} >= {"/api/v1/calendar/<int:year>", "/api/v1/escalations/<int:escalation_id>/resolve",
                                       "/api/v1/process-definitions/<key>/versions/<int:n>"}
    for rule in rules:
        for number in ("2147483648", "99999999999999999999", "9" * 5000):
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", number).replace(f"<{name}>", "x")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method, json={}, headers=api_users.header("root"))
                assert response.status_code == 404, (method, path[:80], response.status_code)


def test_the_largest_32_bit_ids_are_not_a_500(client, api_users):
    headers = api_users.header("root")
    assert client.post("/api/v1/escalations/2147483647/resolve", json={}, headers=headers).status_code == 404
    assert client.get("/api/v1/process-definitions/x/versions/2147483647", headers=headers).status_code == 404
    assert client.get("/api/v1/calendar/2147483647", headers=headers).status_code in (404, 422)
    put = client.put("/api/v1/calendar/2147483647", headers=headers,
                     json={"holidays": [], "workdays": [], "source": "test"})
    assert put.status_code == 422


@pytest.mark.parametrize("start, duration", [
    ("9999-12-31T17:00+08:00", "5 working days"), ("9999-12-31T23:00-08:00", "1 day"),
    ("0001-01-01T00:00+14:00", "1 day"), ("2026-03-02T09:00+08:00", "99999999999999999999 days"),
    ("2026-03-02T09:00+08:00", "99999999999999999999 working days"), ("2026-03-02T09:00+08:00", "P99999999999999999999D"),
    ("2026-03-02T09:00+08:00", "PT99999999999999999999H"), ("2026-03-02T09:00+08:00", "3000000 days"),
])
def test_due_dates_past_year_9999_and_20_digit_durations_are_a_422(client, api_users, start, duration):
    response = client.get("/api/v1/calendar/due", query_string={"from": start, "duration": duration},
                          headers=api_users.header("root"))
    assert response.status_code == 422, response.get_json()


# -- the command line ----------------------------------------------------------------------------

@pytest.fixture
def cli(runtime):
    runner = create_app(runtime=runtime).test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_deploy_dir_deploys_its_files_as_one_deployment(cli, tmp_path):
    for name in FILES:
        (tmp_path / name).write_bytes((UPLOAD / name).read_bytes())
    result = cli("deploy", str(tmp_path))
    assert result.exit_code == 0, result.output
    for key in KEYS:
        assert f"{key} v1 deployed" in result.output
    assert "warning: opinion.bpmn:9: userTask GiveOpinion: formKey" in result.output
    again = cli("deploy", str(tmp_path))
    assert all(f"{key} v1 unchanged" in again.output for key in KEYS)


def test_deploy_prints_each_problem_once(cli, tmp_path):
    (tmp_path / "main.bpmn").write_bytes((UPLOAD / "main.bpmn").read_bytes())
    (tmp_path / "bad.bpmn").write_bytes(around(timer_event("timeCycle", "R/PT0S"), pid="bad")
                                        .replace(b'camunda:candidateGroups', b'x'))
    result = cli("deploy", str(tmp_path))
    assert result.exit_code == 1
    lines = [line.strip() for line in result.output.splitlines()]
    timer = "bad.bpmn:9: intermediateCatchEvent T: timeCycle: the cycle 'R/PT0S' repeats more often than once a minute"
    assert lines.count(timer) == 1
    assert sum("project_item" in line for line in lines) == 1  # main.bpmn's missing callee, once
    assert lines[0] == "error: invalid process definition: 2 problems"
    assert "v1 deployed" not in result.output  # nothing of the directory was stored


def test_deploy_of_an_empty_directory_says_so(cli, tmp_path):
    result = cli("deploy", str(tmp_path))
    assert result.exit_code == 1 and "no .bpmn file" in result.output


def test_files_not_in_utf8_and_bad_file_names_are_a_422(client, api_users):
    text = around('    <bpmn:userTask id="T" name="审批"><bpmn:incoming>F1</bpmn:incoming>'
                  '<bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>').decode()
    for encoding in ("UTF-16", "GBK"):
        data = text.replace('encoding="UTF-8"', f'encoding="{encoding}"').encode(encoding.lower())
        response = _raw(client, api_users, data, "legacy.bpmn")
        assert response.status_code == 422
        assert response.get_json()["errors"]["file"] == [
            f"legacy.bpmn:1: the file is {encoding}; save it as UTF-8 (as Camunda Modeler and bpmn.io do)"]
    bom = _raw(client, api_users, b"\xef\xbb\xbf" + text.encode(), "bom.bpmn")
    assert bom.status_code == 201
    nul = _multipart(client, api_users, [(text.encode(), "a\x00b.bpmn")])
    assert nul.status_code == 422

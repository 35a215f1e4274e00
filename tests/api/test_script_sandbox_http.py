"""Issue 9 §3 through real gunicorn: a script that hangs in C code no longer holds the request
until gunicorn kills the worker (30 s); POST /cases answers after the script time limit
(default 5 s) with the case in error, and the server goes on serving scripts."""
from __future__ import annotations

import time

import requests

from tests.api.conftest import PROJECT_CODE, Users
from tests.api.test_gunicorn import server  # noqa: F401 - the real gunicorn fixture
from tests.conftest import deploy_file


def test_post_cases_with_a_hanging_script_answers_with_the_case_in_error(runtime, server):  # noqa: F811
    deploy_file(runtime, "script_sandbox.bpmn")
    users = Users(runtime)
    users.create("alice", "agent")

    sent = time.monotonic()
    response = requests.post(f"{server}/cases", json={"process_key": "script_hang",
                                                       "business_key": PROJECT_CODE},
                             headers=users.header("alice"), timeout=60)
    took = time.monotonic() - sent
    assert response.status_code == 201, response.text
    assert took < 20, took  # the default 5 s limit, far from gunicorn's 30 s worker timeout
    case = response.json()
    assert case["error"] == "Hang: script timed out after 5 s"
    assert case["open_tasks"] == []

    history = requests.get(f"{server}/cases/{case['id']}/history", headers=users.header("alice"),
                           timeout=30).json()["items"]
    assert [(e["element_id"], e["data"]["message"]) for e in history if e["type"] == "error"] == [
        ("Hang", "script timed out after 5 s")]

    # The same server process runs the next script in a fresh sandbox host: print and del work.
    printed = requests.post(f"{server}/cases", json={"process_key": "script_log",
                                                      "business_key": PROJECT_CODE[:-1] + "2",
                                                      "variables": {"draft": "old"}},
                            headers=users.header("alice"), timeout=60)
    assert printed.status_code == 201, printed.text
    detail = printed.json()
    assert detail["error"] is None and [t["element_id"] for t in detail["open_tasks"]] == ["Review"]
    history = requests.get(f"{server}/cases/{detail['id']}/history", headers=users.header("alice"),
                           timeout=30).json()["items"]
    output = [e for e in history if e["type"] == "script_output"]
    assert output[0]["element_id"] == "Prepare"
    assert output[0]["data"] == {"text": "prepared 3 items\nfirst: 1\n"}
    variables = requests.get(f"{server}/cases/{detail['id']}", headers=users.header("alice"),
                             timeout=30).json()["variables"]
    assert "draft" not in variables and "scratch" not in variables and variables["count"] == 3

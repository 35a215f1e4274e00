"""The PyPI `camunda-external-task-client-python3`, as is, against a real onewindow server.

The server is `onewindow serve` with two gunicorn worker processes on the test database; the
client starts cases (`EngineClient`), fetches, completes, fails and reports BPMN errors
(`ExternalTaskWorker`), with Basic and Bearer credentials, and concurrent fetchers through both
server processes never get the same task.
"""
from __future__ import annotations

import threading

import pytest
import requests
from camunda.client.engine_client import EngineClient
from camunda.client.external_task_client import ExternalTaskClient
from camunda.external_task.external_task_worker import ExternalTaskWorker

from engine.services import incidents
from engine.services import users
from tests.api.test_serve_process import _free_port, _log, _wait_serving, serve  # noqa: F401 - the fixture
from tests.conftest import deploy_file

TOPIC = "credit-check"


@pytest.fixture
def server(runtime, serve):
    """A served onewindow (2 processes) with the credit check deployed and three users."""
    deploy_file(runtime, "external_tasks.bpmn")
    tokens = {}
    with runtime.unit_of_work() as uow:
        for name, role in (("alice", "agent"), ("credit-bot", "worker"), ("root", "admin")):
            tokens[name] = users.create_user(uow, name, role)
        uow.commit()
    port = _free_port()
    process = serve(port, workers=2)
    _wait_serving(process, port)
    return f"http://127.0.0.1:{port}/engine-rest", tokens, process


def _worker(base: str, token: str, worker_id: str = "py-worker") -> ExternalTaskWorker:
    return ExternalTaskWorker(worker_id=worker_id, base_url=base, config={
        "auth_bearer": {"access_token": token}, "maxTasks": 1, "lockDuration": 10000,
        "asyncResponseTimeout": 0, "retries": 3, "retryTimeout": 0})


def _start(base: str, tokens: dict, key: str, **variables) -> str:
    engine = EngineClient(base, config={"auth_basic": {"username": "alice", "password": tokens["alice"]}})
    return engine.start_process("credit_check", variables, business_key=key)["id"]


def _task_of(runtime, case_id: str):
    from engine.services import external_tasks
    from engine.domain.access import Actor
    with runtime.unit_of_work(write=False) as uow:
        return [r for r in external_tasks.list_tasks(uow, Actor("root", "admin"), case_id=case_id)]


def test_the_python_client_fetches_completes_fails_and_reports_errors(runtime, server):
    base, tokens, process = server
    seen = {}

    def complete(task):  # type: ignore[no-untyped-def]
        seen["amount"], seen["business_key"] = task.get_variable("amount"), task.get_business_key()
        return task.complete({"score": 7, "checked": True})

    case_ok = _start(base, tokens, "P-1", amount=5)
    _worker(base, tokens["credit-bot"]).fetch_and_execute(TOPIC, complete)
    assert seen == {"amount": 5, "business_key": "P-1"}, _log(process)
    [notify] = _task_of(runtime, case_ok)
    assert notify.topic == "notify" and notify.variables["score"] == 7 and notify.variables["checked"] is True

    case_retry = _start(base, tokens, "P-2", amount=6)
    _worker(base, tokens["credit-bot"]).fetch_and_execute(
        TOPIC, lambda task: task.failure("registry offline", "Traceback: ...", max_retries=3, retry_timeout=0))
    [failed] = _task_of(runtime, case_retry)
    assert (failed.retries, failed.error_message, failed.error_details, failed.worker) == (
        3, "registry offline", "Traceback: ...", None)

    def last_failure(task):  # type: ignore[no-untyped-def]
        return task.failure("registry gone", None, max_retries=0, retry_timeout=0)

    for _ in range(3):  # 3 → 2 → 1 → 0 retries left: the client counts down from what it fetched
        _worker(base, tokens["credit-bot"]).fetch_and_execute(TOPIC, last_failure)
    with runtime.unit_of_work(write=False) as uow:
        [incident] = incidents.case_incidents(uow, case_retry)
    assert "registry gone" in incident.message and incident.element_id == "Check_credit"

    case_refused = _start(base, tokens, "P-3", amount=7)
    _worker(base, tokens["credit-bot"]).fetch_and_execute(
        TOPIC, lambda task: task.bpmn_error("REFUSED", "blacklisted", {"why": "blacklist"}))
    assert _task_of(runtime, case_refused) == []
    refused = requests.get(f"{base}/task", params={"processInstanceId": case_refused},
                           headers={"Authorization": f"Bearer {tokens['alice']}"}, timeout=10).json()
    assert [t["taskDefinitionKey"] for t in refused] == ["Explain_refusal"]


def test_concurrent_clients_through_two_server_processes_never_share_a_task(runtime, server):
    base, tokens, process = server
    for i in range(30):
        _start(base, tokens, f"P-{i}", amount=i)
    taken: list[str] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def fetcher(name: str) -> None:
        client = ExternalTaskClient(name, base, config={"auth_bearer": {"access_token": tokens["credit-bot"]},
                                                        "maxTasks": 2, "asyncResponseTimeout": 0})
        try:
            while True:
                got = client.fetch_and_lock(TOPIC)
                if not got:
                    return
                with guard:
                    taken.extend(task["id"] for task in got)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=fetcher, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, (errors, _log(process))
    assert len(taken) == 30 and len(set(taken)) == 30

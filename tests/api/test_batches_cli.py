"""`onewindow cases batch`: an operator submits a batch of auxiliary items (分期报建) for an agent."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.app import create_app
from engine.services import cases
from engine.domain.access import Actor
from tests.scenarios.story import agreement, registration

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
CODE = "2026-510117-33-03-000321"
BATCH = {"facility": "门卫室", "items": [{"name": "门卫室规划许可", "department": "county.zrzyj",
                                         "time_limit": "10 working days"}]}


@pytest.fixture
def cli(runtime):
    runner = create_app(runtime=runtime).test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def _complete(runtime, actor, element_id, case_id, data):
    with runtime.unit_of_work() as uow:
        [row] = [t for t in cases.case_tasks(uow, case_id) if t.element_id == element_id and t.state == "ready"]
        cases.complete_task(uow, actor, row.id, data)
        uow.commit()


def test_a_batch_from_the_command_line(cli, runtime, tmp_path):
    assert cli("deploy", str(PROCESSES / "one_window_agency.bpmn")).exit_code == 0
    assert cli("users", "create", "alice", "--role", "agent").exit_code == 0
    case = json.loads(cli("cases", "start", "one_window_agency", "--business-key", CODE, "--as", "alice").output)
    payload = tmp_path / "batch.json"
    payload.write_text(json.dumps(BATCH, ensure_ascii=False), encoding="utf-8")

    early = cli("cases", "batch", case["id"], "--data", f"@{payload}", "--as", "alice")
    assert early.exit_code == 1 and "takes auxiliary batches" in early.output

    alice, window = Actor("alice", "agent"), Actor("w", "staff", "county.zwfw")
    _complete(runtime, alice, "Register", case["id"], registration("厂", CODE))
    _complete(runtime, alice, "Agreement", case["id"], agreement())
    _complete(runtime, window, "PreReview", case["id"], {"materials": [{"name": "营业执照", "checked": True}],
                                                          "complete": True})
    _complete(runtime, window, "Intake", case["id"], {"decision": "accept"})

    done = cli("cases", "batch", case["id"], "--data", f"@{payload}", "--as", "alice")
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["batch"] == 1 and [t["department"] for t in result["open_tasks"]] == ["county.zrzyj"]
    bad = cli("cases", "batch", case["id"], "--data", '{"facility": "x", "items": []}', "--as", "alice")
    assert bad.exit_code == 1 and "items" in bad.output
    assert cli("cases", "batch", case["id"], "--data", "{nope", "--as", "alice").exit_code == 1

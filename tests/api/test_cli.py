"""The operator command line, run through Flask's CLI runner against the test database."""
from __future__ import annotations

import json

import pytest

from api.app import create_app
from tests.conftest import BPMN


@pytest.fixture
def cli(runtime):
    app = create_app(runtime=runtime)
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_deploy_start_list_and_complete_from_the_command_line(cli, tmp_path):
    result = cli("deploy", str(BPMN / "parallel_approval.bpmn"))
    assert result.exit_code == 0 and "parallel_approval v1 deployed" in result.output
    assert "parallel_approval v1 unchanged" in cli("deploy", str(BPMN / "parallel_approval.bpmn")).output

    assert cli("users", "create", "alice", "--role", "agent").exit_code == 0
    token = cli("users", "create", "wang", "--role", "staff", "--department", "county.fgj").output.strip()
    assert token.startswith("ow_")

    started = cli("cases", "start", "parallel_approval", "--business-key", "2026-510117-34-01-000001",
                  "--var", "amount=5000", "--var", "note=plain text", "--as", "alice")
    assert started.exit_code == 0, started.output
    case = json.loads(started.output)
    assert case["created"] and len(case["open_tasks"]) == 3

    listed = cli("tasks", "list", "--department", "county.fgj")
    [line] = listed.output.strip().splitlines()
    task_id = line.split()[0]
    assert cli("tasks", "list", "--as", "wang").output == listed.output  # a body's staff: its inbox
    elsewhere = cli("tasks", "list", "--as", "wang", "--department", "county.zrzyj")
    assert elsewhere.exit_code == 1 and "may not see the tasks of department county.zrzyj" in elsewhere.output
    assert cli("tasks", "list", "--as", "alice").output.count("\n") == 3  # an agent: its own cases
    done = cli("tasks", "complete", task_id, "--as", "wang", "--data", '{"decision": "approve"}')
    assert done.exit_code == 0 and "completed" in done.output
    again = cli("tasks", "complete", task_id, "--as", "wang", "--data", "{}")
    assert again.exit_code == 1 and "already completed" in again.output


def test_errors_exit_non_zero_with_the_reason(cli, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text((BPMN / "parallel_approval.bpmn").read_text().replace('targetRef="Close"', 'targetRef="Nope"'))
    result = cli("deploy", str(bad))
    assert result.exit_code == 1 and "bad.bpmn:" in result.output and "'Nope' does not exist" in result.output
    assert cli("deploy", str(tmp_path / "missing.bpmn")).exit_code == 1
    assert cli("users", "create", "x", "--role", "wizard").exit_code == 1
    assert cli("cases", "start", "nothing", "--business-key", "k").exit_code == 1
    assert cli("tasks", "complete", "nope", "--as", "ghost").exit_code == 1
    assert cli("users", "revoke", "ghost").exit_code == 1


def test_a_database_never_migrated_gets_a_hint_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    from engine.config import REPO_ROOT
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}", PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run([sys.executable, "-m", "api.cli", "calendar", "due", "2026-09-30T17:00+08:00",
                             "5 working days"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert "run `onewindow db upgrade` first" in result.stderr and "Traceback" not in result.stderr


def test_departments_list_reads_the_organisation_file(cli):
    county = cli("departments", "list", "--level", "county").output.splitlines()
    assert any(line.startswith("county.fgj ") and "发展和改革局" in line for line in county)
    assert all(" county " in line for line in county) and len(county) >= 16
    everything = json.loads(cli("departments", "list", "--json").output)
    assert {d["level"] for d in everything} == {"province", "city", "county"}
    assert cli("departments", "list", "--level", "town").exit_code == 2


def test_deploy_check_stores_nothing(cli, tmp_path):
    from engine.config import REPO_ROOT
    checked = cli("deploy", "--check", str(REPO_ROOT / "processes"))
    assert checked.exit_code == 0, checked.output
    assert "one_window_agency v1 would be deployed" in checked.output
    assert "approval_item v1 would be deployed" in checked.output
    assert "v1 deployed" in cli("deploy", str(BPMN / "parallel_approval.bpmn")).output
    bad = tmp_path / "bad.bpmn"
    bad.write_text((BPMN / "parallel_approval.bpmn").read_text().replace('targetRef="Close"', 'targetRef="Nope"'))
    refused = cli("deploy", "--check", str(bad))
    assert refused.exit_code == 1 and "bad.bpmn:" in refused.output
    listed = cli("deploy", "--check", str(BPMN / "parallel_approval.bpmn"))
    assert "parallel_approval v1 unchanged" in listed.output
    again = cli("deploy", "--check", str(REPO_ROOT / "processes" / "one_window_agency.bpmn"))
    assert "one_window_agency v1 would be deployed" in again.output  # the first check stored nothing

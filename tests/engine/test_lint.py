"""`onewindow lint`: the deploy's checks on a designer's machine, without a database; the
pre-commit hook that runs it."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from engine.domain.access import Actor
from engine.services.definitions import deploy_files
from engine.errors import InvalidDefinition
from engine.domain.forms import FormRegistry
from engine.domain.organisation import Organisation
from engine.services import lint
from tests.conftest import BPMN

REPO = Path(__file__).resolve().parents[2]
MODELER = BPMN / "modeler"
BAD = (MODELER / "juel_routing.bpmn").read_text(encoding="utf-8") \
    .replace("${amount gt 1000 &amp;&amp; !empty reviewers}", "${timerUtil.next(execution)}") \
    .replace("${amount > 1000 ? 'county.fgj' : 'county.zjj'}", "accounting") \
    .replace('id="Flow_end" sourceRef="Activity_file" targetRef="EndEvent_1"',
             'id="Flow_end" sourceRef="Activity_file" targetRef="EndEvent_9"')


def run(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", "lint", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=env)


def test_every_problem_at_once_with_line_column_and_element_and_exit_status_1(tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text(BAD, encoding="utf-8")
    result = run(str(bad))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3, result.stdout
    for line in lines:
        assert re.match(rf"^{re.escape(str(bad))}:\d+:\d+: \w+ \w+: ", line), line
    assert any(":13:7: sequenceFlow Flow_large: conditionExpression: unsupported JUEL: method call timerUtil.next()"
               in line for line in lines)
    assert any("userTask Activity_file: candidate group 'accounting' is not a known department" in line
               for line in lines)
    assert any("sequenceFlow Flow_end: targetRef 'EndEvent_9' does not exist" in line for line in lines)
    assert "3 errors in 1 file" in result.stderr
    as_json = json.loads(run("--format", "json", str(bad)).stdout)
    assert as_json["errors"] == 3
    [flow] = [p for p in as_json["problems"] if p["element"] == "sequenceFlow Flow_large"]
    assert (flow["line"], flow["column"], flow["severity"]) == (13, 7, "error")


def test_lint_finds_what_deploy_refuses(runtime, tmp_path):
    """Lint and deploy share their checks: the same problems, lint adding only the column."""
    (tmp_path / "bad.bpmn").write_text(BAD, encoding="utf-8")
    with runtime.unit_of_work() as uow, pytest.raises(InvalidDefinition) as refused:
        deploy_files(uow, Actor("dora", "designer"), [(BAD.encode(), "bad.bpmn")])
    found = lint.lint_files([tmp_path / "bad.bpmn"], Organisation.load(), None)
    as_deploy = {re.sub(r"^(.*?):(\d+):\d+: ", rf"bad.bpmn:\2: ", str(p)) for p in found}
    assert as_deploy == set(refused.value.problems)


def test_call_targets_are_looked_for_among_the_given_files(tmp_path):
    caller = str(MODELER / "permit_with_inspection.bpmn")
    alone = run("--organisation", str(_with_aliases(tmp_path)), caller)
    assert alone.returncode == 1 and "site_inspection" in alone.stdout
    both = run("--organisation", str(_with_aliases(tmp_path)), caller, str(MODELER / "site_inspection.bpmn"))
    assert both.returncode == 0, both.stdout


def _with_aliases(tmp_path: Path) -> Path:
    from tests.modeler_corpus import ALIASES
    path = tmp_path / "organisation.json"
    document = json.loads((REPO / "processes" / "organisation.json").read_text(encoding="utf-8"))
    path.write_text(json.dumps({**document, "group_aliases": ALIASES}, ensure_ascii=False), encoding="utf-8")
    return path


def test_form_keys_are_checked_against_a_forms_directory_as_warnings(tmp_path):
    text = (MODELER / "juel_routing.bpmn").read_text(encoding="utf-8").replace(
        'name="File"', 'name="File" camunda:formKey="filing"')
    path = tmp_path / "with_form.bpmn"
    path.write_text(text, encoding="utf-8")
    forms = tmp_path / "forms"
    forms.mkdir()
    warned = run("--forms", str(forms), str(path))
    assert warned.returncode == 0
    assert "userTask Activity_file: warning: formKey 'filing' names no deployed form" in warned.stdout
    assert run("--forms", str(forms), "--strict", str(path)).returncode == 1
    (forms / "filing.json").write_text(json.dumps({"type": "object", "properties": {}}), encoding="utf-8")
    assert run("--forms", str(forms), "--strict", str(path)).stdout == ""


def test_no_database_is_needed(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "ONEWINDOW_VAR": str(tmp_path / "absent")}
    result = run(str(MODELER / "juel_routing.bpmn"), env=env)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "absent").exists()


def test_a_check_plugs_in_with_one_line(tmp_path):
    decision = tmp_path / "approval_items.dmn"
    decision.write_text("<definitions/>", encoding="utf-8")
    seen = []

    def dmn_problems(files):
        seen.extend(name for name, _ in files)
        return [f"{name}:1: decision Decision_1: no decision table" for name, _ in files if name.endswith(".dmn")]
    lint.register(dmn_problems)
    try:
        found = lint.lint_files([tmp_path], Organisation.load(), FormRegistry.load())
    finally:
        lint.HOOKS.remove(dmn_problems)
    assert seen == [str(decision)]
    [problem] = found
    assert str(problem) == f"{decision}:1:1: decision Decision_1: no decision table"


def test_an_unreadable_or_bad_organisation_file_is_said_plainly(tmp_path):
    broken = tmp_path / "organisation.json"
    broken.write_text("{", encoding="utf-8")
    result = run("--organisation", str(broken), str(MODELER / "juel_routing.bpmn"))
    assert result.returncode == 2 and "organisation.json:1: not valid JSON" in result.stderr


def test_the_pre_commit_hook_runs_lint_on_bpmn_and_dmn_files():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    [hook] = [h for h in hooks if h["id"] == "onewindow-lint"]
    assert hook["entry"] == "onewindow lint" and hook["language"] == "python"
    pattern = re.compile(hook["files"])
    assert pattern.search("processes/permit.bpmn") and pattern.search("decisions/items.dmn")
    assert not pattern.search("forms/intake.json")
    assert hook.get("require_serial") is True  # call targets are looked for among the files of one run
    from api.cli import cli
    assert "lint" in cli.commands  # what `entry` runs


def test_a_missing_file_or_an_empty_directory_is_an_error(tmp_path):
    result = run(str(tmp_path / "missing.bpmn"), str(tmp_path))
    assert result.returncode == 1
    assert f"{tmp_path / 'missing.bpmn'}:1:1: cannot be read: No such file or directory" in result.stdout
    assert f"{tmp_path}:1:1: no .bpmn or .dmn file in this directory" in result.stdout

"""The README's permission matrix holds for every console page and form: per role, per page; a
changed URL does not open another department's task; a form without the session's CSRF token
is refused and changes nothing; every page is served with a CSP without 'unsafe-inline' and
escapes what users typed."""
from __future__ import annotations

import re

import pytest

from engine.services import cases
from engine.services import workbench
from engine.domain.access import Actor
from engine.adapters.models import Task
from tests.console.conftest import Browser
from tests.scenarios.story import agreement, registration

CODE = "2026-510117-34-01-000001"
ALICE = Actor("alice", "agent")


def _ready(runtime, case_id: str) -> list[Task]:
    with runtime.unit_of_work(write=False) as uow:
        return [t for t in cases.case_tasks(uow, case_id) if t.state == "ready"]


def _do(runtime, actor: Actor, task: Task, data: dict) -> None:
    with runtime.unit_of_work() as uow:
        cases.complete_task(uow, actor, task.id, data)
        uow.commit()


def open_agency_case(runtime, name: str = "郫都区新材料产业园", code: str = CODE) -> str:
    """alice's case, taken through intake: its stage-1 items sit in four bodies' inboxes."""
    with runtime.unit_of_work() as uow:
        case_id = workbench.register_project(uow, ALICE, "one_window_agency", registration(name, code)).case.id
        uow.commit()
    steps = [("Agreement", ALICE, agreement()),
             ("PreReview", Actor("zwfw", "staff", "county.zwfw"),
              {"materials": [{"name": "营业执照", "checked": True}], "complete": True}),
             ("Intake", Actor("zwfw", "staff", "county.zwfw"), {"decision": "accept"})]
    for element, actor, data in steps:
        [task] = [t for t in _ready(runtime, case_id) if t.element_id == element]
        _do(runtime, actor, task, data)
    return case_id


@pytest.fixture
def agency(runtime, shipped, people):  # type: ignore[no-untyped-def]
    case_id = open_agency_case(runtime)
    fgj_task = next(t for t in _ready(runtime, case_id) if t.department == "county.fgj")
    return {"case": case_id, "fgj_task": fgj_task.id}


PAGES = ["/console/", "/console/tasks", "/console/cases", "/console/cases/{case}", "/console/tasks/{task}",
         "/console/cases/{case}/diagram.svg", "/console/escalations", "/console/definitions",
         "/console/definitions/one_window_agency", "/console/cases/new", "/console/admin/users",
         "/console/admin/calendar", "/console/admin/organisation"]
# One row per person: the expected status of each page above, in order. "other dept" = county.zjj,
# which has no task in the case; "other" agent = bob.
ALLOWED = {
    "root":       [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    "dora":       [200, 403, 403, 403, 403, 403, 403, 200, 200, 403, 403, 403, 403],
    "alice":      [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 403],
    "bob":        [200, 200, 200, 403, 403, 403, 200, 200, 200, 200, 403, 403, 403],
    "fgj":        [200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 403, 403],
    "zjj":        [200, 200, 200, 403, 403, 403, 200, 200, 200, 403, 403, 403, 403],
    "fgj-leader": [200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 403, 403],
    "gov":        [200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 403, 403],
}


@pytest.mark.parametrize("who", sorted(ALLOWED))
def test_every_page_answers_each_role_as_the_matrix_says(app, people, agency, who):
    if who == "zjj":
        people.add("zjj", "staff", "county.zjj")
    b = Browser(app)
    b.sign_in(who)
    got = []
    for path in PAGES:
        response = b.get(path.format(case=agency["case"], task=agency["fgj_task"]))
        got.append(response.status_code)
        if response.status_code == 403:
            assert "无权" in response.get_data(as_text=True)
    assert got == ALLOWED[who], list(zip(PAGES, got, ALLOWED[who]))


def test_no_page_opens_without_a_session(app, people, agency):
    b = Browser(app)
    for path in PAGES:
        response = b.get(path.format(case=agency["case"], task=agency["fgj_task"]))
        assert response.status_code == 303 and response.headers["Location"].startswith("/console/login"), path


def test_changing_the_url_does_not_open_another_departments_task(app, people, agency, runtime):
    b = Browser(app)
    b.sign_in("zrzyj")
    own = next(t for t in _ready(runtime, agency["case"]) if t.department == "county.zrzyj")
    assert b.get(f"/console/tasks/{own.id}").status_code == 200
    other = f"/console/tasks/{agency['fgj_task']}"
    page = b.get(other)
    assert page.status_code == 403 and "项目审批" not in page.get_data(as_text=True)
    for action in ("", "/claim", "/unclaim"):
        assert b.post(other + action, {"decision": "approve"}).status_code == 403
    [task] = [t for t in _ready(runtime, agency["case"]) if t.id == agency["fgj_task"]]
    assert task.state == "ready" and task.assignee is None


def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(app, people, agency, runtime):
    fgj = Browser(app)
    fgj.sign_in("fgj")
    other = Browser(app)
    other.sign_in("fgj2")  # a real token, but of another session
    task = agency["fgj_task"]
    for token in (None, "", other.csrf):
        data = {"decision": "accept"}
        if token is not None:
            data["csrf_token"] = token
        response = fgj.client.post(f"/console/tasks/{task}", data=data)
        assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
        assert fgj.client.post(f"/console/tasks/{task}/claim", data=data).status_code == 400
        assert fgj.client.post(f"/console/cases/{agency['case']}/cancel", data=data).status_code == 400
        assert fgj.client.post("/console/logout", data=data).status_code == 400
    [row] = [t for t in _ready(runtime, agency["case"]) if t.id == task]
    assert row.state == "ready" and row.assignee is None
    assert fgj.get("/console/").status_code == 200  # still signed in


def test_every_page_has_a_strict_csp_and_no_inline_script_or_style(app, people, agency):
    b = Browser(app)
    b.sign_in("root")
    for path in PAGES + ["/console/login"]:
        response = b.get(path.format(case=agency["case"], task=agency["fgj_task"]))
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\sstyle=", html) and "<style" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handlers


def test_what_users_typed_is_escaped_everywhere(app, people, runtime, shipped):
    evil = '<script>alert("x")</script>&<b>'
    case_id = open_agency_case(runtime, name=evil)
    b = Browser(app)
    b.sign_in("alice")
    for path in (f"/console/cases/{case_id}", "/console/", "/console/cases", f"/console/cases/{case_id}/diagram.svg"):
        html = b.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>" not in html, path
    assert "&lt;script&gt;alert(" in b.get(f"/console/cases/{case_id}").get_data(as_text=True)

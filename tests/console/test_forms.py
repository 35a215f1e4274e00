"""Task forms rendered from their JSON Schema and posted back: every construct the shipped forms
use, the engine's validation errors in Chinese next to their fields, typed values kept."""
from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from api.console import formfields
from engine.domain.forms import FormRegistry
from tests.console.conftest import Browser
from tests.console.test_permissions import _ready, open_agency_case
from tests.scenarios.story import registration

FORMS = FormRegistry.load()


def _walk(fields):  # type: ignore[no-untyped-def]
    for f in fields:
        yield f
        yield from _walk(f.children)
        yield from _walk(f.rows)


@pytest.mark.parametrize("key", FORMS.keys())
def test_every_shipped_form_renders_with_a_label_for_each_field(app, people, key):
    schema = FORMS.get(key)
    fields = formfields.build(schema, formfields.to_raw(schema, {}))
    kinds = {f.kind for f in _walk(fields)}
    assert kinds <= {"text", "textarea", "number", "integer", "date", "radio", "select", "checkbox", "yesno",
                     "checkboxes", "texts", "rows", "object"}
    with app.test_request_context():
        from flask import render_template_string
        html = render_template_string('{% from "console/_form.html" import field %}{% for f in fields %}{{ field(f) }}{% endfor %}',
                                      fields=fields)
    for input_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html):
        assert f'for="{input_id}"' in html, (key, input_id)  # every field has its label
    for name in re.findall(r'<input type="(?:radio|checkbox)" name="([^"]+)"', html):
        assert name  # choices sit in a fieldset with a legend
    required = [f for f in _walk(fields) if f.required and f.kind != "checkbox"]  # a checkbox is always answered
    assert html.count("（必填）") >= len(required)


def test_the_constructs_map_to_their_widgets():
    kinds = {f.path: f.kind for f in _walk(formfields.build(FORMS.get("registration"), {}))}
    assert kinds["project_name"] == "text" and kinds["investment"] == "number"
    assert kinds["land_area_unit"] == "radio" and kinds["stages_requested"] == "checkboxes"
    assert kinds["location"] == "object" and kinds["location.county"] == "text"
    decision = {f.path: f.kind for f in _walk(formfields.build(FORMS.get("approval_decision"), {}))}
    assert decision == {"decision": "radio", "opinion": "textarea", "conditions": "texts",
                        "conditions[0]": "text", "attachments": "texts", "attachments[0]": "text"}
    sites = {f.path: f.kind for f in _walk(formfields.build(FORMS.get("site_opinion"), {}))}
    assert sites["sites"] == "rows" and sites["sites[0].decision"] == "radio" and sites["sites[0]"] == "object"
    review = {f.path: f.kind for f in _walk(formfields.build(FORMS.get("pre_review"), {}))}
    assert review["complete"] == "checkbox" and review["materials[0].checked"] == "checkbox"
    coordination = {f.path: f.kind for f in _walk(formfields.build(FORMS.get("coordination_decision"), {}))}
    assert coordination["extension_days"] == "integer"
    closure = {f.path: f.kind for f in _walk(formfields.build(FORMS.get("closure"), {}))}
    assert closure["closed_date"] == "date"


def test_a_posted_form_becomes_typed_pruned_data():
    schema = FORMS.get("site_opinion")
    form = MultiDict([("sites[0].__row", "1"), ("sites[0].site", " 一号站址 "), ("sites[0].decision", "agree"),
                      ("sites[0].opinion", ""), ("sites[1].__row", "1"), ("sites[1].site", ""),
                      ("sites[2].__row", "1"), ("sites[2].site", "三号站址"), ("sites[2].decision", "conditional"),
                      ("sites[2].opinion", "需避让基本农田"), ("note", "  ")])
    data, errors = formfields.to_data(schema, formfields.raw_values(schema, form))
    assert errors == {}
    assert data == {"sites": [{"site": "一号站址", "decision": "agree"},
                              {"site": "三号站址", "decision": "conditional", "opinion": "需避让基本农田"}]}
    review = FORMS.get("pre_review")
    data, _ = formfields.to_data(review, formfields.raw_values(review, MultiDict([
        ("materials[0].__row", "1"), ("materials[0].name", "营业执照"), ("materials[0].checked", "on")])))
    assert data == {"materials": [{"name": "营业执照", "checked": True}], "complete": False}
    reg = FORMS.get("registration")
    data, errors = formfields.to_data(reg, formfields.raw_values(reg, MultiDict([
        ("investment", "3,000.5"), ("land_area", "十亩"), ("stages_requested", "stage1_project_land"),
        ("stages_requested", "stage4_completion"), ("location.city", "成都市")])))
    assert data["investment"] == 3000.5 and "land_area" not in data and errors == {"land_area": ["请填写数字"]}
    assert data["stages_requested"] == ["stage1_project_land", "stage4_completion"]
    assert data["location"] == {"city": "成都市"}


def test_rows_are_added_and_removed_by_buttons_without_script():
    schema = FORMS.get("correction_request")
    raw = formfields.raw_values(schema, MultiDict([("materials[0].__row", "1"), ("materials[0].name", "图纸")]))
    assert formfields.change_rows(schema, raw, "add:materials")
    assert len(raw["materials"]) == 2 and raw["materials"][0]["name"] == "图纸"
    assert formfields.change_rows(schema, raw, "remove:materials[0]")
    assert len(raw["materials"]) == 1 and raw["materials"][0].get("name", "") == ""
    assert not formfields.change_rows(schema, raw, "add:nonsense.deep")


def _flatten(value, prefix: str = "", out: MultiDict | None = None) -> MultiDict:  # type: ignore[no-untyped-def]
    out = out if out is not None else MultiDict()
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for i, row in enumerate(value):
            out.add(f"{prefix}[{i}].__row", "1")
            _flatten(row, f"{prefix}[{i}]", out)
    elif isinstance(value, list):
        for item in value:
            out.add(prefix, str(item))
    elif isinstance(value, bool):
        if value:
            out.add(prefix, "on")
    else:
        out.add(prefix, str(value))
    return out


def test_starting_a_case_shows_a_wrong_credit_code_at_its_field_and_keeps_the_rest(app, people, shipped, runtime):
    b = Browser(app)
    b.sign_in("alice")
    b.get("/console/cases/new")
    form = _flatten(registration("郫都区新材料产业园", "2026-510117-34-01-000001"))
    form["credit_code"] = "91510117MA6CXY7120"
    form["contact_phone"] = "12345"
    form.add("process", "one_window_agency")
    form.add("csrf_token", b.csrf)
    response = b.client.post("/console/cases/new", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="f-credit_code-msg">✖ 校验位错误', html)
    assert re.search(r'id="f-contact_phone-msg">✖ 应为手机号', html)
    assert 'value="郫都区新材料产业园"' in html and 'value="91510117MA6CXY7120"' in html  # kept as typed
    assert 'href="#f-credit_code"' in html  # the summary links to the field
    assert 'aria-invalid="true"' in html
    with runtime.unit_of_work(write=False) as uow:
        from sqlalchemy import func, select

        from engine.adapters.models import Case
        assert uow.session.scalar(select(func.count()).select_from(Case)) == 0  # nothing was created
    form["credit_code"] = registration("x", "y")["credit_code"]
    form["contact_phone"] = "13800000000"
    done = b.client.post("/console/cases/new", data=form)
    assert done.status_code == 303 and "done=started" in done.headers["Location"]
    page = b.get(done.headers["Location"]).get_data(as_text=True)
    assert "签订代办协议" in page and "案件已创建" in page
    again = b.client.post("/console/cases/new", data=form)  # the same project: its open case, not a second one
    assert again.status_code == 303 and "done=existing" in again.headers["Location"]


def test_a_task_form_shows_every_error_at_once_in_chinese_and_completes_when_fixed(app, people, shipped, runtime):
    case_id = open_agency_case(runtime)
    task = next(t for t in _ready(runtime, case_id) if t.department == "county.fgj")
    b = Browser(app)
    b.sign_in("fgj")
    page = b.get(f"/console/tasks/{task.id}").get_data(as_text=True)
    assert "受理决定" in page and 'type="radio" name="decision" value="correction"' in page
    assert "郫都区新材料产业园" in page  # the case beside the form
    # 补正 needs the missing materials named: the engine says so, the page shows it at the list
    response = b.post(f"/console/tasks/{task.id}", {"decision": "correction", "opinion": "材料不全"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="f-missing_materials-msg">✖ 此项必填' in html
    assert 'value="correction" checked' in html and "材料不全</textarea>" in html
    added = b.post(f"/console/tasks/{task.id}", {"decision": "correction", "opinion": "材料不全",
                                                 "_action": "add:missing_materials"})
    assert added.status_code == 200 and 'name="missing_materials[0].name"' in added.get_data(as_text=True)
    done = b.post(f"/console/tasks/{task.id}", {"decision": "correction", "opinion": "材料不全",
                                                "missing_materials[0].__row": "1",
                                                "missing_materials[0].name": "项目建议书",
                                                "missing_materials[0].reason": "未盖章"})
    assert done.status_code == 303
    again = b.post(f"/console/tasks/{task.id}", {"decision": "accept"})
    assert again.status_code == 409 and "已不在待办状态" in again.get_data(as_text=True)
    with runtime.unit_of_work(write=False) as uow:
        from engine.adapters.models import Task
        row = uow.session.get(Task, task.id)
    assert row.state == "completed" and row.data["missing_materials"] == [{"name": "项目建议书", "reason": "未盖章"}]
    # the agent now has the 补正 task: the per-row list form
    correction = next(t for t in _ready(runtime, case_id) if t.element_id == "ItemAcceptCorrection")
    agent = Browser(app)
    agent.sign_in("alice")
    form = agent.get(f"/console/tasks/{correction.id}").get_data(as_text=True)
    assert "已补材料" in form and 'name="materials[0].name"' in form
